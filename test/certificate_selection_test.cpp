// Client certificates on demand (client_config::certificates and select_certificate, Schannel's
// SEC_I_INCOMPLETE_CREDENTIALS): the client learns what the server asks for (its CA names and
// signature schemes), chooses one of several certificates or none, and the server sees the one
// chosen; a selector that fails is certificate_selection_failed; a deferred choice waits in
// want_certificate for pending_certificate() on OpenSSL, and fails on GnuTLS, which cannot wait
// (pending_certificate() does not compile there: compile_fail/). Built for both engines.
#include "support/drive.hpp"
#include "support/pki.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace secctx;
using test::text;

namespace {

const test::pki& pki() {
    return test::pki::get();
}

client_certificate candidate(const issued_certificate& identity) {
    return {pem_source::from_memory(identity.certificate_pem),
            pem_source::from_memory(identity.private_key_pem),
            {}};
}

// Two candidates, the one the server cannot accept first.
client_config choosing_client(certificate_selector select, tls_version version) {
    auto config = test::client_config_trusting(pki().ca);
    config.min_version = config.max_version = version;
    config.certificates = {candidate(pki().untrusted_server), candidate(pki().client)};
    config.select_certificate = std::move(select);
    return config;
}

server_config asking_server(tls_version version,
                            client_certificates ask = client_certificates::required) {
    auto config = test::server_config_for(pki().ecdsa_server);
    config.min_version = config.max_version = version;
    config.verify_clients = ask;
    config.trust.certificates = pem_source::from_memory(pki().ca.certificate_pem());
    return config;
}

struct connection {
    connection(const client_config& cc, const server_config& sc)
        : c{client{credentials::client(cc), "localhost"}, link.client_end()},
          s{server{credentials::server(sc)}, link.server_end()} {}
    memory_link link;
    test::client_handshake c;
    test::server_handshake s;

    // The subject of the certificate the server received, or "" for none.
    std::string client_subject() const {
        const auto chain = query_attributes(s.provider()).peer_chain;
        return chain.empty() ? std::string() : chain.front().subject;
    }
};

// The certificate the server must receive: the one its CA issued (pki's client).
const std::string trusted_client_subject = "CN=secctx test client";

} // namespace

BOOST_AUTO_TEST_CASE(the_default_choice_is_the_certificate_the_server_accepts) {
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            connection x{choosing_client({}, version), asking_server(version)};
            test::drive(x.c, x.s);
            BOOST_TEST_REQUIRE(x.c.done(), text(x.c.error()) << " " << x.c.error_detail());
            BOOST_TEST_REQUIRE(x.s.done(), text(x.s.error()) << " " << x.s.error_detail());
            BOOST_TEST(x.client_subject() == trusted_client_subject);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_selector_is_told_what_the_server_asks_for) {
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            certificate_request_info seen;
            std::vector<certificate_candidate> shown;
            int calls = 0;
            const auto record = [&](const certificate_request_info& request,
                                    const std::vector<certificate_candidate>& candidates) {
                ++calls;
                seen = request;
                shown = candidates;
                return certificate_choice::use(1);
            };
            connection x{choosing_client(record, version), asking_server(version)};
            test::drive(x.c, x.s);
            BOOST_TEST_REQUIRE(x.c.done(), text(x.c.error()) << " " << x.c.error_detail());
            BOOST_TEST(calls == 1);
            BOOST_TEST(seen.server_name == "localhost");
            BOOST_TEST_REQUIRE(seen.authorities.size() == 1u);
            BOOST_TEST(seen.authorities.front() == "CN=secctx test CA");
            BOOST_TEST((std::find(seen.signature_schemes.begin(), seen.signature_schemes.end(),
                                  "ecdsa_secp256r1_sha256") != seen.signature_schemes.end()));
            BOOST_TEST_REQUIRE(shown.size() == 2u);
            BOOST_TEST(shown[0].issuers.front() == "CN=secctx untrusted CA");
            BOOST_TEST(shown[1].issuers.front() == "CN=secctx test CA");
            BOOST_TEST(shown[1].leaf.common_name == "secctx test client");
            BOOST_TEST(
                (shown[1].signature_schemes == std::vector<std::string>{"ecdsa_secp256r1_sha256"}));
            BOOST_TEST(x.client_subject() == trusted_client_subject);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_server_that_does_not_ask_never_calls_the_selector) {
    int calls = 0;
    const auto count = [&](const certificate_request_info&,
                           const std::vector<certificate_candidate>&) {
        ++calls;
        return certificate_choice::none();
    };
    connection x{choosing_client(count, tls_version::tls1_3),
                 asking_server(tls_version::tls1_3, client_certificates::none)};
    test::drive(x.c, x.s);
    BOOST_TEST(x.c.done());
    BOOST_TEST(calls == 0);
}

BOOST_AUTO_TEST_CASE(choosing_none_sends_none_and_a_server_that_requires_one_refuses) {
    const auto none = [](const certificate_request_info&,
                         const std::vector<certificate_candidate>&) {
        return certificate_choice::none();
    };
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            connection optional{choosing_client(none, version),
                                asking_server(version, client_certificates::optional)};
            test::drive(optional.c, optional.s);
            BOOST_TEST_REQUIRE(optional.s.done(), text(optional.s.error()));
            BOOST_TEST(optional.client_subject().empty());

            connection required{choosing_client(none, version), asking_server(version)};
            test::drive(required.c, required.s);
            BOOST_TEST(text(required.s.error()) == text(errc::client_certificate_required));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_selector_that_fails_fails_the_handshake_with_its_own_error) {
    const certificate_selector failing[] = {
        [](const certificate_request_info&, const std::vector<certificate_candidate>&) {
            return certificate_choice::use(7);
        },
        [](const certificate_request_info&, const std::vector<certificate_candidate>&)
            -> certificate_choice { throw std::runtime_error("directory down"); },
    };
    for (const auto& select : failing)
        for (const auto version : test::versions) {
            BOOST_TEST_CONTEXT(test::name_of(version)) {
                connection x{choosing_client(select, version), asking_server(version)};
                test::drive(x.c, x.s);
                BOOST_TEST(text(x.c.error()) == text(errc::certificate_selection_failed),
                           x.c.error_detail());
                BOOST_TEST(!x.c.error_detail().empty());
                BOOST_TEST(!x.s.done());
            }
        }
}

#if !defined(SECCTX_DEFAULT_ENGINE_GNUTLS)
BOOST_AUTO_TEST_CASE(a_deferred_choice_waits_in_want_certificate_until_it_is_given) {
    const auto later = [](const certificate_request_info&,
                          const std::vector<certificate_candidate>&) {
        return certificate_choice::later();
    };
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            connection x{choosing_client(later, version), asking_server(version)};
            step_result r;
            for (int round = 0; round < 32 && r.status != step_status::want_certificate; ++round) {
                r = x.c.step();
                x.s.step();
            }
            BOOST_TEST_REQUIRE((r.status == step_status::want_certificate));
            BOOST_TEST((r.provider == provider_status::certificate_needed));
            const pending_certificate pending = x.c.pending_certificate();
            BOOST_TEST(pending.awaited());
            BOOST_TEST(pending.request().authorities.size() == 1u);
            // Stepping before the choice changes nothing.
            BOOST_TEST((x.c.step().status == step_status::want_certificate));
            BOOST_TEST(text(pending.give(certificate_choice::later())) ==
                       text(errc::invalid_state));
            std::error_code given;
            std::thread([&] { given = pending.give(certificate_choice::use(1)); }).join();
            BOOST_TEST(text(given) == "success");
            BOOST_TEST(text(pending.give(certificate_choice::use(1))) == text(errc::invalid_state),
                       "given twice");
            test::drive(x.c, x.s);
            BOOST_TEST_REQUIRE(x.c.done(), text(x.c.error()) << " " << x.c.error_detail());
            BOOST_TEST_REQUIRE(x.s.done());
            BOOST_TEST(x.client_subject() == trusted_client_subject);
        }
    }
}

BOOST_AUTO_TEST_CASE(run_waits_for_a_choice_from_another_thread_and_ends_at_the_deadline) {
    const auto later = [](const certificate_request_info&,
                          const std::vector<certificate_candidate>&) {
        return certificate_choice::later();
    };
    connection x{choosing_client(later, tls_version::tls1_3), asking_server(tls_version::tls1_3)};
    step_result r;
    for (int round = 0; round < 32 && r.status != step_status::want_certificate; ++round) {
        r = x.c.step();
        x.s.step();
    }
    BOOST_TEST_REQUIRE((r.status == step_status::want_certificate));
    const auto pending = x.c.pending_certificate();
    // Nobody gives it: run() ends at its deadline, and a late choice is refused.
    const auto ec = x.c.run(std::chrono::steady_clock::now() + std::chrono::milliseconds(50));
    BOOST_TEST(text(ec) == text(errc::timed_out));
    BOOST_TEST(text(pending.give(certificate_choice::use(1))) == text(errc::invalid_state));

    // Given from another thread while run() waits; the server runs on a thread of its own.
    connection y{choosing_client(later, tls_version::tls1_3), asking_server(tls_version::tls1_3)};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::error_code server_result;
    std::thread server_side([&] { server_result = y.s.run(deadline); });
    std::thread giver([p = y.c.pending_certificate()] {
        while (!p.awaited())
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        (void)p.give(certificate_choice::use(1));
    });
    const auto client_result = y.c.run(deadline);
    giver.join();
    server_side.join();
    BOOST_TEST(text(client_result) == "success", y.c.error_detail());
    BOOST_TEST(text(server_result) == "success", y.s.error_detail());
    BOOST_TEST(y.client_subject() == trusted_client_subject);
}
#else
BOOST_AUTO_TEST_CASE(a_deferred_choice_fails_on_gnutls_which_cannot_wait) {
    const auto later = [](const certificate_request_info&,
                          const std::vector<certificate_candidate>&) {
        return certificate_choice::later();
    };
    connection x{choosing_client(later, tls_version::tls1_3), asking_server(tls_version::tls1_3)};
    test::drive(x.c, x.s);
    BOOST_TEST(text(x.c.error()) == text(errc::certificate_selection_failed));
    BOOST_TEST(x.c.error_detail().find("cannot wait") != std::string::npos, x.c.error_detail());
}
#endif

BOOST_AUTO_TEST_CASE(configurations_that_cannot_work_are_refused) {
    const auto refusal = [](const client_config& cc) {
        std::error_code ec;
        std::string detail;
        (void)credentials::client(cc, ec, &detail);
        BOOST_TEST_MESSAGE(text(ec) << ": " << detail);
        return text(ec) + (detail.find("certificates[0]") != std::string::npos ? " [0]" : "");
    };
    auto both = choosing_client({}, tls_version::tls1_3);
    both.certificate_chain = pem_source::from_memory(pki().client.certificate_pem);
    both.private_key = pem_source::from_memory(pki().client.private_key_pem);
    BOOST_TEST(refusal(both) == text(errc::invalid_configuration));
    auto mismatched = choosing_client({}, tls_version::tls1_3);
    mismatched.certificates[0].private_key = pem_source::from_memory(pki().client.private_key_pem);
    BOOST_TEST(refusal(mismatched) == text(errc::invalid_credentials) + " [0]");
    auto keyless = choosing_client({}, tls_version::tls1_3);
    keyless.certificates[0].private_key = {};
    BOOST_TEST(refusal(keyless) == text(errc::invalid_credentials) + " [0]");
}
