// The conformance suite (support/conformance.hpp) over two pipes, one each way.
#include "support/conformance.hpp"

SECCTX_CONFORMANCE_SUITE(conformance_pipe, secctx::test::conformance::pipe_pair)
