// The application's verdict on the peer's certificate (peer_validation.hpp), in OpenSSL: the
// credentials' certificate verification callback runs the engine's own checks, asks the validator
// and, for a deferred verdict, pauses the handshake. A client pauses with SSL_set_retry_verify()
// (SSL_ERROR_WANT_RETRY_VERIFY; the callback runs again when the handshake is called again). A
// server cannot retry verification in OpenSSL 3.0 (the flag is ignored and the chain accepted),
// so its handshake runs as an async job (SSL_MODE_ASYNC) that the callback pauses
// (ASYNC_pause_job, SSL_ERROR_WANT_ASYNC) and the next call resumes. A paused job lives on the
// stack of the thread that started it: the server's handshake must be stepped again, and
// destroyed, on that thread.
#pragma once

#include "secctx/detail/peer_judgement.hpp"
#include "secctx/error.hpp"
#include "secctx/peer_validation.hpp"
#include "secctx/tls/alert.hpp"
#include "secctx/tls/openssl/detail/describe.hpp"
#include "secctx/tls/openssl/detail/error_mapping.hpp"

#include <openssl/async.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <string>
#include <thread>
#include <utility>

namespace secctx::openssl::detail {

// The verification error that makes OpenSSL send the alert tls::alert_for_rejection() names for
// `reason` (OpenSSL chooses the alert from the error: ssl_x509err2alert).
inline int x509_error_for(errc reason) noexcept {
    switch (tls::alert_for_rejection(reason)) {
    case tls::alert_description::certificate_revoked:
        return X509_V_ERR_CERT_REVOKED;
    case tls::alert_description::certificate_expired:
        return X509_V_ERR_CERT_HAS_EXPIRED;
    case tls::alert_description::unknown_ca:
        return X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
    case tls::alert_description::bad_certificate:
        return X509_V_ERR_CERT_REJECTED;
    default: // an error absent from OpenSSL's table: certificate_unknown
        return X509_V_ERR_SUBJECT_ISSUER_MISMATCH;
    }
}

// The provider's judgement, where OpenSSL's callback finds it (the SSL's ex_data), with what
// pausing a server needs.
struct judgement : secctx::detail::peer_judgement {
    std::string server_name; // a client's: what the certificate was checked against
    bool server = false;
    // A server's handshake paused in an async job, and the thread whose stack holds it.
    bool paused = false;
    std::thread::id paused_on;

    static int index() noexcept {
        static const int i = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
        return i;
    }

    static judgement* of(const SSL* ssl) noexcept {
        return static_cast<judgement*>(SSL_get_ex_data(ssl, index()));
    }

    // What the validator is asked: the chain as the peer sent it, leaf first.
    validation_request question(X509_STORE_CTX* ctx, const SSL* ssl) const {
        validation_request r;
        X509* leaf = X509_STORE_CTX_get0_cert(ctx);
        if (leaf != nullptr)
            r.chain.push_back(describe(leaf));
        STACK_OF(X509)* sent = X509_STORE_CTX_get0_untrusted(ctx);
        for (int i = 0; i < sk_X509_num(sent); ++i)
            if (X509* c = sk_X509_value(sent, i); leaf == nullptr || X509_cmp(c, leaf) != 0)
                r.chain.push_back(describe(c));
        r.engine_verdict = engine_verdict;
        r.engine_detail = engine_detail;
        if (server) {
            if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name))
                r.server_name = name;
        } else {
            r.server_name = server_name;
        }
        return r;
    }

    // The verdict applied to the verification in progress: 1 to go on, 0 to fail (OpenSSL then
    // sends the alert the error in `ctx` calls for).
    int apply(X509_STORE_CTX* ctx, const verdict& v) {
        const bool accepted = decide(v);
        X509_STORE_CTX_set_error(ctx, accepted ? X509_V_OK : x509_error_for(v.reason()));
        return accepted ? 1 : 0;
    }
};

// SSL_CTX_set_cert_verify_callback's callback for credentials with a validator.
inline int verify_with_application(X509_STORE_CTX* ctx, void*) {
    auto* ssl =
        static_cast<SSL*>(X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
    judgement* j = ssl != nullptr ? judgement::of(ssl) : nullptr;
    if (j == nullptr)
        return X509_verify_cert(ctx);
    try {
        // A client's handshake called again after a deferral: the verdict is in.
        if (auto given = j->slot->take())
            return j->apply(ctx, *given);
        if (!j->engine_checked) {
            j->engine_checked = true;
            if (X509_verify_cert(ctx) <= 0) {
                const int code = X509_STORE_CTX_get_error(ctx);
                j->engine_verdict = map_verify_result(code);
                j->engine_detail = X509_verify_cert_error_string(code);
            }
        }
        if (j->engine_has_the_last_word())
            return 0; // the engine's rejection stands, with its own error and alert
        j->request = j->question(ctx, ssl);
        verdict v = j->ask();
        if (v.what() != verdict::kind::later)
            return j->apply(ctx, v);
        j->slot->await(j->request);
        if (!j->server) {
            SSL_set_retry_verify(ssl);
            return 1;
        }
        j->paused = true;
        j->paused_on = std::this_thread::get_id();
        ASYNC_pause_job();
        j->paused = false;
        if (auto given = j->slot->take())
            return j->apply(ctx, *given);
        // Resumed without a verdict: the handshake is being abandoned.
        return j->apply(ctx, verdict::reject(errc::certificate_rejected, "no verdict was given"));
    } catch (...) { // nothing may unwind through OpenSSL
        X509_STORE_CTX_set_error(ctx, X509_V_ERR_OUT_OF_MEM);
        return 0;
    }
}

} // namespace secctx::openssl::detail
