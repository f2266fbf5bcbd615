// The application judges the peer's certificate (SCH_CRED_MANUAL_CRED_VALIDATION): after the
// engine or instead of it, at once or later from another thread, on the client and the server,
// with the alert TLS prescribes for a rejection and clear errors for every misuse of a deferred
// verdict. Built for both engines.
#include "support/conformance.hpp"
#include "support/drive.hpp"
#include "support/engine.hpp"
#include "support/pki.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace secctx;
using test::client_handshake;
using test::server_handshake;
using test::text;

namespace {

const test::pki& pki() {
    return test::pki::get();
}

template <class Config>
Config only(Config config, tls_version version) {
    config.min_version = config.max_version = version;
    return config;
}

// What a validator saw and how often it was asked; shared with the validator it makes.
struct record {
    std::mutex mutex;
    std::vector<validation_request> requests;

    std::size_t asked() {
        std::lock_guard lock(mutex);
        return requests.size();
    }
    validation_request last() {
        std::lock_guard lock(mutex);
        return requests.back();
    }
};

peer_validation validating(std::shared_ptr<record> seen, verdict answer,
                           validation_mode mode = validation_mode::after_engine) {
    return {[seen, answer](const validation_request& r) {
                std::lock_guard lock(seen->mutex);
                seen->requests.push_back(r);
                return answer;
            },
            mode};
}

struct connection {
    connection(const client_config& c, const server_config& s,
               std::string_view server_name = "localhost", handshake_limits limits = {})
        : c{client{credentials::client(c), server_name}, link.client_end(), dynamic_buffer(),
            limits},
          s{server{credentials::server(s)}, link.server_end(), dynamic_buffer(), limits} {}

    memory_link link;
    client_handshake c;
    server_handshake s;
};

server_config mutual(tls_version version) {
    auto config = only(test::server_config_for(pki().ecdsa_server), version);
    config.verify_clients = client_certificates::required;
    config.trust.certificates = pem_source::from_memory(pki().ca.certificate_pem());
    return config;
}

client_config with_identity(client_config config, const issued_certificate& identity) {
    config.certificate_chain = pem_source::from_memory(identity.certificate_pem);
    config.private_key = pem_source::from_memory(identity.private_key_pem);
    return config;
}

// Steps both ends until neither moves, and says whether `waiting` stopped at want_verdict.
template <class Waiting, class Other>
bool drive_until_verdict(Waiting& waiting, Other& other) {
    for (int round = 0; round < 64; ++round) {
        const step_result w = waiting.step();
        const step_result o = other.step();
        if (w.status == step_status::want_verdict)
            return true;
        if (test::finished(w) && test::finished(o))
            return false;
    }
    return false;
}

bool verdict_awaited(const pending_verdict& p) {
    return p.awaited();
}

// Mutual TLS 1.3 in which one side defers its verdict: the server when `server_waits`.
struct deferral {
    explicit deferral(bool server_waits) : server_waits(server_waits) {
        (server_waits ? sc.validation : cc.validation) = validating(seen, verdict::later());
    }

    // Steps `x` until the deferring side waits for its verdict; returns its handle.
    template <class Connection>
    pending_verdict wait(Connection& x) const {
        const bool waiting =
            server_waits ? drive_until_verdict(x.s, x.c) : drive_until_verdict(x.c, x.s);
        BOOST_TEST_REQUIRE(waiting);
        return pending(x);
    }

    template <class Connection>
    pending_verdict pending(Connection& x) const {
        return server_waits ? x.s.pending() : x.c.pending();
    }

    bool server_waits;
    std::shared_ptr<record> seen = std::make_shared<record>();
    client_config cc = with_identity(test::client_config_trusting(pki().ca), pki().client);
    server_config sc = mutual(tls_version::tls1_3);
};

} // namespace

BOOST_AUTO_TEST_CASE(after_the_engine_the_validator_sees_the_chain_and_the_engine_verdict) {
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            auto seen = std::make_shared<record>();
            auto cc = only(test::client_config_trusting(pki().ca), version);
            cc.validation = validating(seen, verdict::accept());
            connection x{cc, only(test::server_config_for(pki().ecdsa_server), version)};
            test::drive(x.c, x.s);
            BOOST_TEST_REQUIRE(x.c.done());
            BOOST_TEST_REQUIRE(seen->asked() == 1u);
            const auto request = seen->last();
            BOOST_TEST(text(request.engine_verdict) == "success");
            BOOST_TEST(request.server_name == "localhost");
            BOOST_TEST_REQUIRE(!request.chain.empty());
            BOOST_TEST(request.chain.front().der.size() > 100u);
            BOOST_TEST(request.chain.front().subject.find("localhost") != std::string::npos);
            const auto a = query_attributes(x.c.provider());
            BOOST_TEST(a.peer_verified);
            BOOST_TEST((a.verified_by == verifier::engine));
        }
    }
}

BOOST_AUTO_TEST_CASE(after_the_engine_a_chain_it_rejects_fails_without_asking) {
    auto seen = std::make_shared<record>();
    auto cc = test::client_config_trusting(pki().ca);
    cc.validation = validating(seen, verdict::accept());
    connection x{cc, test::server_config_for(pki().untrusted_server)};
    test::drive(x.c, x.s);
    BOOST_TEST(text(x.c.error()) == text(errc::certificate_untrusted));
    BOOST_TEST(seen->asked() == 0u);
}

BOOST_AUTO_TEST_CASE(instead_of_the_engine_the_validator_may_accept_what_the_engine_rejects) {
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            auto seen = std::make_shared<record>();
            auto cc = only(test::client_config_trusting(pki().ca), version);
            cc.validation = validating(seen, verdict::accept(), validation_mode::instead_of_engine);
            connection x{cc, only(test::server_config_for(pki().untrusted_server), version)};
            test::drive(x.c, x.s);
            BOOST_TEST_REQUIRE(x.c.done(), text(x.c.error()) << " " << x.c.error_detail());
            BOOST_TEST_REQUIRE(x.s.done());
            BOOST_TEST_REQUIRE(seen->asked() == 1u);
            BOOST_TEST(text(seen->last().engine_verdict) == text(errc::certificate_untrusted));
            BOOST_TEST(!seen->last().engine_detail.empty());
            const auto a = query_attributes(x.c.provider());
            BOOST_TEST(a.peer_verified);
            BOOST_TEST((a.verified_by == verifier::application));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_rejection_fails_with_its_reason_and_sends_the_alert_tls_prescribes) {
    struct reason_case {
        errc reason;
        tls::alert_description alert;
    };
    const reason_case cases[] = {
        {errc::certificate_revoked, tls::alert_description::certificate_revoked},
        {errc::certificate_expired, tls::alert_description::certificate_expired},
        {errc::certificate_untrusted, tls::alert_description::unknown_ca},
        {errc::certificate_invalid, tls::alert_description::bad_certificate},
        {errc::certificate_rejected, tls::alert_description::certificate_unknown},
    };
    for (const auto& rc : cases) {
        BOOST_TEST_CONTEXT(text(rc.reason)) {
            auto seen = std::make_shared<record>();
            // TLS 1.2: the client's alert goes out before its ChangeCipherSpec, in plaintext,
            // so the test reads its description on the wire.
            auto cc = only(test::client_config_trusting(pki().ca), tls_version::tls1_2);
            cc.validation = validating(seen, verdict::reject(rc.reason, "pinned key differs"));
            connection x{cc,
                         only(test::server_config_for(pki().ecdsa_server), tls_version::tls1_2)};
            step_result c;
            for (int round = 0; round < 16 && !test::finished(c); ++round) {
                c = x.c.step();
                if (!test::finished(c))
                    x.s.step();
            }
            BOOST_TEST_REQUIRE((c.status == step_status::failed));
            BOOST_TEST(text(x.c.error()) == text(rc.reason));
            BOOST_TEST(x.c.error_detail().find("pinned key differs") != std::string::npos);
            const auto wire = test::drain(x.s.transport());
            BOOST_TEST_REQUIRE(wire.size() >= 7u);
            BOOST_TEST(static_cast<int>(wire[wire.size() - 7]) == 21); // an alert record
            BOOST_TEST(static_cast<int>(wire.back()) == static_cast<int>(rc.alert));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_server_judges_client_certificates_and_its_rejection_reaches_the_client) {
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            auto accepted = std::make_shared<record>();
            auto sc = mutual(version);
            sc.validation = validating(accepted, verdict::accept());
            const auto cc =
                with_identity(only(test::client_config_trusting(pki().ca), version), pki().client);
            connection good{cc, sc};
            test::drive(good.c, good.s);
            BOOST_TEST_REQUIRE(good.s.done(), text(good.s.error()));
            BOOST_TEST_REQUIRE(accepted->asked() == 1u);
            BOOST_TEST(accepted->last().chain.front().subject.find("secctx test client") !=
                       std::string::npos);
            BOOST_TEST((query_attributes(good.s.provider()).verified_by == verifier::engine));

            auto refused = std::make_shared<record>();
            sc.validation = validating(refused, verdict::reject(errc::certificate_revoked));
            connection bad{cc, sc};
            test::drive(bad.c, bad.s);
            BOOST_TEST(text(bad.s.error()) == text(errc::certificate_revoked));
            // TLS 1.3: the client is done before the server reads its certificate; the alert
            // ends its first read.
            if (version == tls_version::tls1_2) {
                BOOST_TEST(text(bad.c.error()) == text(errc::peer_rejected_certificate));
                BOOST_TEST_MESSAGE("the client heard: " << bad.c.error_detail());
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(a_server_validator_instead_of_the_engine_needs_no_trust_anchors) {
    auto seen = std::make_shared<record>();
    auto sc = test::server_config_for(pki().ecdsa_server);
    sc.verify_clients = client_certificates::required;
    sc.validation = validating(seen, verdict::accept(), validation_mode::instead_of_engine);
    connection x{with_identity(test::client_config_trusting(pki().ca), pki().client), sc};
    test::drive(x.c, x.s);
    BOOST_TEST_REQUIRE(x.s.done(), text(x.s.error()) << " " << x.s.error_detail());
    BOOST_TEST(text(seen->last().engine_verdict) == text(errc::certificate_untrusted));
    BOOST_TEST((query_attributes(x.s.provider()).verified_by == verifier::application));
}

BOOST_AUTO_TEST_CASE(a_validator_that_throws_rejects) {
    auto cc = test::client_config_trusting(pki().ca);
    cc.validation.validator = [](const validation_request&) -> verdict {
        throw std::runtime_error("policy service unreachable");
    };
    connection x{cc, test::server_config_for(pki().ecdsa_server)};
    test::drive(x.c, x.s);
    BOOST_TEST(text(x.c.error()) == text(errc::certificate_rejected));
    BOOST_TEST(x.c.error_detail().find("threw") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(configurations_no_engine_can_honour_are_invalid_configuration) {
    auto cc = test::client_config_trusting(pki().ca);
    cc.dangerous_skip_verification = true;
    cc.validation.validator = [](const validation_request&) { return verdict::accept(); };
    std::error_code ec;
    std::string detail;
    (void)credentials::client(cc, ec, &detail);
    BOOST_TEST(text(ec) == text(errc::invalid_configuration));
    BOOST_TEST(detail.find("instead_of_engine") != std::string::npos);

    auto sc = test::server_config_for(pki().ecdsa_server);
    sc.validation.validator = cc.validation.validator;
    detail.clear();
    (void)credentials::server(sc, ec, &detail);
    BOOST_TEST(text(ec) == text(errc::invalid_configuration));
    BOOST_TEST(detail.find("verify_clients") != std::string::npos);
}

// ---- deferred verdicts ----

BOOST_AUTO_TEST_CASE(a_client_waits_for_a_verdict_given_from_another_thread) {
    for (const auto& answer : {verdict::accept(), verdict::reject(errc::certificate_revoked)}) {
        for (const auto version : test::versions) {
            BOOST_TEST_CONTEXT(test::name_of(version)
                               << (answer.accepted() ? " accept" : " reject")) {
                auto seen = std::make_shared<record>();
                auto cc = only(test::client_config_trusting(pki().ca), version);
                cc.validation = validating(seen, verdict::later());
                connection x{cc, only(test::server_config_for(pki().ecdsa_server), version)};
                BOOST_TEST_REQUIRE(drive_until_verdict(x.c, x.s));
                const pending_verdict pending = x.c.pending();
                BOOST_TEST(verdict_awaited(pending));
                BOOST_TEST(pending.request().server_name == "localhost");
                // Stepping before the verdict changes nothing.
                BOOST_TEST((x.c.step().status == step_status::want_verdict));
                std::error_code given;
                std::thread([&] { given = pending.give(answer); }).join();
                BOOST_TEST(text(given) == "success");
                BOOST_TEST(!verdict_awaited(pending));
                test::drive(x.c, x.s);
                if (answer.accepted()) {
                    BOOST_TEST_REQUIRE(x.c.done(), text(x.c.error()) << " " << x.c.error_detail());
                    BOOST_TEST_REQUIRE(x.s.done());
                    BOOST_TEST((query_attributes(x.c.provider()).verified_by == verifier::engine));
                } else {
                    BOOST_TEST(text(x.c.error()) == text(errc::certificate_revoked));
                    BOOST_TEST(text(x.s.error()) == text(errc::peer_rejected_certificate));
                }
                BOOST_TEST(seen->asked() == 1u, "the validator is asked once");
                BOOST_TEST(text(pending.give(verdict::accept())) == text(errc::invalid_state));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(a_server_waits_for_a_verdict_given_from_another_thread) {
    for (const auto& answer : {verdict::accept(), verdict::reject(errc::certificate_rejected)}) {
        for (const auto version : test::versions) {
            BOOST_TEST_CONTEXT(test::name_of(version)
                               << (answer.accepted() ? " accept" : " reject")) {
                auto seen = std::make_shared<record>();
                auto sc = mutual(version);
                sc.validation = validating(seen, verdict::later());
                connection x{with_identity(only(test::client_config_trusting(pki().ca), version),
                                           pki().client),
                             sc};
                BOOST_TEST_REQUIRE(drive_until_verdict(x.s, x.c));
                const pending_verdict pending = x.s.pending();
                BOOST_TEST(pending.request().chain.size() >= 1u);
                std::thread([&] { BOOST_TEST(text(pending.give(answer)) == "success"); }).join();
                test::drive(x.c, x.s);
                if (answer.accepted()) {
                    BOOST_TEST_REQUIRE(x.s.done(), text(x.s.error()) << " " << x.s.error_detail());
                    BOOST_TEST_REQUIRE(x.c.done());
                    BOOST_TEST((query_attributes(x.s.provider()).verified_by == verifier::engine));
                } else {
                    BOOST_TEST(text(x.s.error()) == text(errc::certificate_rejected));
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(a_deferred_verdict_may_overrule_the_engine) {
    auto cc = test::client_config_trusting(pki().ca);
    auto seen = std::make_shared<record>();
    cc.validation = validating(seen, verdict::later(), validation_mode::instead_of_engine);
    connection x{cc, test::server_config_for(pki().untrusted_server)};
    BOOST_TEST_REQUIRE(drive_until_verdict(x.c, x.s));
    BOOST_TEST(text(x.c.pending().request().engine_verdict) == text(errc::certificate_untrusted));
    BOOST_TEST(text(x.c.pending().give(verdict::accept())) == "success");
    test::drive(x.c, x.s);
    BOOST_TEST_REQUIRE(x.c.done(), text(x.c.error()) << " " << x.c.error_detail());
    BOOST_TEST((query_attributes(x.c.provider()).verified_by == verifier::application));
}

BOOST_AUTO_TEST_CASE(a_verdict_nobody_asked_for_or_a_later_is_refused) {
    auto cc = test::client_config_trusting(pki().ca);
    auto seen = std::make_shared<record>();
    cc.validation = validating(seen, verdict::later());
    connection x{cc, test::server_config_for(pki().ecdsa_server)};
    BOOST_TEST(text(x.c.pending().give(verdict::accept())) == text(errc::invalid_state));
    BOOST_TEST(text(pending_verdict().give(verdict::accept())) == text(errc::invalid_state));
    BOOST_TEST_REQUIRE(drive_until_verdict(x.c, x.s));
    BOOST_TEST(text(x.c.pending().give(verdict::later())) == text(errc::invalid_state));
    BOOST_TEST(text(x.c.pending().give(verdict::accept())) == "success");
    BOOST_TEST(text(x.c.pending().give(verdict::accept())) == text(errc::invalid_state),
               "a second verdict");
}

BOOST_AUTO_TEST_CASE(the_deadline_ends_a_wait_for_a_verdict_and_a_late_verdict_is_refused) {
    for (const bool server_waits : {false, true}) {
        BOOST_TEST_CONTEXT((server_waits ? "server" : "client")) {
            const deferral d(server_waits);
            handshake_limits limits;
            limits.timeout = std::chrono::milliseconds(100);
            connection x{d.cc, d.sc, "localhost", limits};
            const pending_verdict pending = d.wait(x);
            std::this_thread::sleep_for(std::chrono::milliseconds(150));
            const step_result r = server_waits ? x.s.step() : x.c.step();
            BOOST_TEST((r.status == step_status::failed));
            BOOST_TEST(text(r.error) == text(errc::timed_out));
            BOOST_TEST(text(pending.give(verdict::accept())) == text(errc::invalid_state));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_verdict_for_a_handshake_that_is_gone_is_refused) {
    for (const bool server_waits : {false, true}) {
        BOOST_TEST_CONTEXT((server_waits ? "server" : "client")) {
            const deferral d(server_waits);
            pending_verdict pending;
            {
                connection x{d.cc, d.sc};
                pending = d.wait(x);
                BOOST_TEST(verdict_awaited(pending));
            } // destroyed while waiting: nothing leaks (ASan/LSan)
            BOOST_TEST(!verdict_awaited(pending));
            BOOST_TEST(text(pending.give(verdict::accept())) == text(errc::invalid_state));
        }
    }
}

// run() over a blocking transport waits for the verdict like it waits for the peer.
BOOST_AUTO_TEST_CASE(run_waits_for_a_verdict_given_from_another_thread) {
    for (const bool server_waits : {false, true}) {
        BOOST_TEST_CONTEXT((server_waits ? "server" : "client")) {
            const deferral d(server_waits);
            test::conformance::unix_socket_pair sockets;
            struct {
                basic_handshake<client, socket_transport, dynamic_buffer> c;
                basic_handshake<server, socket_transport, dynamic_buffer> s;
            } x{{client{credentials::client(d.cc), "localhost"}, sockets.client_end()},
                {server{credentials::server(d.sc)}, sockets.server_end()}};
            auto& c = x.c;
            auto& s = x.s;
            const pending_verdict pending = d.pending(x);
            std::error_code client_result, server_result;
            std::thread client_thread([&] { client_result = c.run(test::bounded_deadline()); });
            std::thread server_thread([&] { server_result = s.run(test::bounded_deadline()); });
            std::error_code given = errc::invalid_state;
            for (int i = 0; i < 500 && given; ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
                given = pending.give(verdict::accept());
            }
            client_thread.join();
            server_thread.join();
            BOOST_TEST(text(given) == "success");
            BOOST_TEST(text(client_result) == "success");
            BOOST_TEST(text(server_result) == "success");
        }
    }
}
