#include "support/drive.hpp"
#include "support/pki.hpp"

#include <boost/test/unit_test.hpp>

using namespace secctx;

BOOST_AUTO_TEST_CASE(tls13_handshake_completes_over_memory_transport) {
    const auto& p = test::pki::get();
    const auto server_creds = credentials::server(test::server_config_for(p.ecdsa_server));
    const auto client_creds = credentials::client(test::client_config_trusting(p.ca));
    memory_link link;
    basic_handshake<client, memory_transport, dynamic_buffer> c{client{client_creds, "localhost"},
                                                                link.client_end()};
    basic_handshake<server, memory_transport, dynamic_buffer> s{server{server_creds},
                                                                link.server_end()};
    const auto [cr, sr] = test::drive(c, s);
    BOOST_TEST(cr.error.message() == "Success");
    BOOST_TEST(sr.error.message() == "Success");
    BOOST_TEST(c.done());
    BOOST_TEST(s.done());
    BOOST_TEST(c.provider().protocol() == "TLSv1.3");
}
