// Client certificates on demand in OpenSSL (certificate_selection.hpp). Each candidate is loaded
// by the credentials' own PEM loader into an SSL_CTX of its own, which holds its chain and key;
// the certificate callback (SSL_CTX_set_cert_cb), called when the server asks for a certificate,
// asks the selector and sets the chosen one on the connection (SSL_use_cert_and_key). A deferred
// choice returns -1 (SSL_ERROR_WANT_X509_LOOKUP): OpenSSL calls the callback again with the
// handshake, which then takes the choice given meanwhile.
#pragma once

#include "secctx/certificate_selection.hpp"
#include "secctx/tls/openssl/detail/describe.hpp"
#include "secctx/tls/openssl/detail/handles.hpp"
#include "secctx/tls/signature_scheme.hpp"

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace secctx::openssl::detail {

// A credentials' candidates and selector.
struct certificate_candidates {
    std::vector<ssl_ctx_ptr> holders;             // each candidate's chain and key
    std::vector<certificate_candidate> described; // what the selector is shown, same order
    certificate_selector select;

    bool enabled() const noexcept { return !holders.empty() || static_cast<bool>(select); }

    // Describes the candidate loaded into `holder` and keeps it.
    void add(ssl_ctx_ptr holder) {
        certificate_candidate c;
        X509* leaf = SSL_CTX_get0_certificate(holder.get());
        c.leaf = describe(leaf);
        c.issuers.push_back(c.leaf.issuer);
        STACK_OF(X509)* chain = nullptr;
        SSL_CTX_get0_chain_certs(holder.get(), &chain);
        for (int i = 0; i < sk_X509_num(chain); ++i)
            c.issuers.push_back(name_text(X509_get_issuer_name(sk_X509_value(chain, i))));
        const EVP_PKEY* key = SSL_CTX_get0_privatekey(holder.get());
        char curve[64] = {};
        std::size_t size = 0;
        const bool ec = EVP_PKEY_is_a(key, "EC") == 1;
        if (ec)
            EVP_PKEY_get_group_name(key, curve, sizeof curve, &size);
        const char* kind = ec                                   ? "EC"
                           : EVP_PKEY_is_a(key, "RSA") == 1     ? "RSA"
                           : EVP_PKEY_is_a(key, "RSA-PSS") == 1 ? "RSA-PSS"
                           : EVP_PKEY_is_a(key, "ED25519") == 1 ? "ED25519"
                           : EVP_PKEY_is_a(key, "ED448") == 1   ? "ED448"
                                                                : "";
        c.signature_schemes = tls::signature_schemes_for_key(kind, curve);
        described.push_back(std::move(c));
        holders.push_back(std::move(holder));
    }
};

// A client connection's choice, where the certificate callback finds it (the SSL's ex_data).
struct certificate_chooser {
    std::shared_ptr<secctx::detail::certificate_slot> slot =
        std::make_shared<secctx::detail::certificate_slot>();
    const certificate_candidates* candidates = nullptr; // the credentials'
    std::string server_name;
    bool failed = false;
    std::string why;

    static int index() noexcept {
        static const int i = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
        return i;
    }

    static certificate_chooser* of(const SSL* ssl) noexcept {
        return static_cast<certificate_chooser*>(SSL_get_ex_data(ssl, index()));
    }

    // What the server's CertificateRequest asked for.
    certificate_request_info question(const SSL* ssl) const {
        certificate_request_info r;
        const STACK_OF(X509_NAME)* names = SSL_get0_peer_CA_list(ssl);
        for (int i = 0; i < sk_X509_NAME_num(names); ++i)
            r.authorities.push_back(name_text(sk_X509_NAME_value(names, i)));
        auto* s = const_cast<SSL*>(ssl); // SSL_get_sigalgs only reads
        const int count = SSL_get_sigalgs(s, -1, nullptr, nullptr, nullptr, nullptr, nullptr);
        for (int i = 0; i < count; ++i) {
            unsigned char signature = 0;
            unsigned char hash = 0;
            SSL_get_sigalgs(s, i, nullptr, nullptr, nullptr, &signature, &hash);
            const auto name = tls::signature_scheme_name(
                static_cast<std::uint16_t>(static_cast<unsigned>(hash) << 8 | signature));
            if (!name.empty())
                r.signature_schemes.emplace_back(name);
        }
        r.server_name = server_name;
        return r;
    }

    certificate_choice ask(const certificate_request_info& request) const {
        return candidates->select ? candidates->select(request, candidates->described)
                                  : first_acceptable(request, candidates->described);
    }

    // 1: go on (with the chosen certificate set, or none); 0: fail.
    int apply(SSL* ssl, const certificate_choice& choice) {
        if (choice.what() == certificate_choice::kind::none)
            return 1;
        if (choice.index() >= candidates->holders.size())
            return fail("the selector chose certificate " + std::to_string(choice.index()) +
                        " of " + std::to_string(candidates->holders.size()));
        SSL_CTX* holder = candidates->holders[choice.index()].get();
        STACK_OF(X509)* chain = nullptr;
        SSL_CTX_get0_chain_certs(holder, &chain);
        if (SSL_use_cert_and_key(ssl, SSL_CTX_get0_certificate(holder),
                                 SSL_CTX_get0_privatekey(holder), chain, 1) != 1)
            return fail("the chosen certificate could not be set");
        return 1;
    }

    int fail(std::string words) {
        failed = true;
        why = std::move(words);
        return 0;
    }
};

// SSL_CTX_set_cert_cb's callback for a client with certificates to choose from.
inline int choose_certificate(SSL* ssl, void*) {
    certificate_chooser* c = certificate_chooser::of(ssl);
    if (c == nullptr)
        return 1;
    try {
        if (auto given = c->slot->take())
            return c->apply(ssl, *given);
        const auto request = c->question(ssl);
        const certificate_choice choice = c->ask(request);
        if (choice.what() != certificate_choice::kind::later)
            return c->apply(ssl, choice);
        c->slot->await(request);
        return -1;
    } catch (...) { // nothing may unwind through OpenSSL, so no words are made here
        c->failed = true;
        return 0;
    }
}

} // namespace secctx::openssl::detail
