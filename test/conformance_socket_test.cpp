// The conformance suite (support/conformance.hpp) over sockets: a TCP connection on the loopback
// interface and a Unix-domain socket pair.
#include "support/conformance.hpp"

SECCTX_CONFORMANCE_SUITE(conformance_tcp, secctx::test::conformance::tcp_pair)
SECCTX_CONFORMANCE_SUITE(conformance_unix_socket, secctx::test::conformance::unix_socket_pair)
