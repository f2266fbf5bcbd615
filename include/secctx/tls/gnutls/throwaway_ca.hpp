// A certificate authority made in memory with GnuTLS, for demos and tests: the same requests and
// the same PEM results as the OpenSSL engine's (tls/certificate_request.hpp), so a program that
// uses only GnuTLS needs no other library. Never use it for anything that must be trusted.
// Throws std::runtime_error when GnuTLS fails (it is not a hot path).
#pragma once

#include "secctx/tls/certificate_request.hpp"
#include "secctx/tls/gnutls/detail/handles.hpp"

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <arpa/inet.h>

#include <chrono>
#include <ctime>
#include <stdexcept>
#include <string>
#include <utility>

namespace secctx::gnutls {

class throwaway_ca {
public:
    explicit throwaway_ca(key_type key = key_type::ecdsa_p256,
                          const std::string& name = "secctx throwaway CA")
        : key_(generate(key)) {
        certificate_ =
            make_certificate(name, key_.get(), nullptr, key_.get(), -std::chrono::hours(1),
                             std::chrono::hours(24 * 30), true, {});
        certificate_pem_ = to_pem(certificate_.get());
    }

    // The CA certificate, PEM: the trust anchor for peers of certificates it issues (for an
    // intermediate, the certificate its leaves' peers send after them).
    const std::string& certificate_pem() const noexcept { return certificate_pem_; }

    // A CA that this one certifies: what the intermediate issues chains to this CA through the
    // intermediate's certificate_pem().
    throwaway_ca intermediate(const std::string& name, key_type key = key_type::ecdsa_p256) const {
        throwaway_ca made(generate(key));
        made.certificate_ =
            make_certificate(name, made.key_.get(), certificate_.get(), key_.get(),
                             -std::chrono::hours(1), std::chrono::hours(24 * 30), true, {});
        made.certificate_pem_ = to_pem(made.certificate_.get());
        return made;
    }

    issued_certificate issue(const certificate_request& request) const {
        const auto key = generate(request.key);
        const auto leaf =
            make_certificate(request.common_name, key.get(), certificate_.get(), key_.get(),
                             request.valid_from, request.valid_until, false, request);
        issued_certificate out;
        out.certificate_pem = to_pem(leaf.get());
        detail::datum pem;
        check(gnutls_x509_privkey_export2_pkcs8(key.get(), GNUTLS_X509_FMT_PEM, nullptr,
                                                GNUTLS_PKCS_PLAIN, pem.out(true)),
              "exporting the key");
        out.private_key_pem.assign(reinterpret_cast<const char*>(pem.get()->data), pem.get()->size);
        return out;
    }

    // A CRL signed by this CA (PEM, version 2, with the authority key identifier) listing the
    // serial numbers of `request.revoked`.
    std::string revocation_list(const revocation_request& request) const {
        gnutls_x509_crl_t raw = nullptr;
        check(gnutls_x509_crl_init(&raw), "CRL");
        detail::x509_crl_ptr crl(raw);
        const std::time_t now = std::time(nullptr);
        check(gnutls_x509_crl_set_version(raw, 2), "CRL version");
        check(gnutls_x509_crl_set_this_update(raw, now + request.this_update.count()), "CRL dates");
        check(gnutls_x509_crl_set_next_update(raw, now + request.next_update.count()), "CRL dates");
        for (const auto& pem : request.revoked) {
            gnutls_x509_crt_t revoked_raw = nullptr;
            check(gnutls_x509_crt_init(&revoked_raw), "certificate");
            detail::x509_crt_ptr revoked(revoked_raw);
            const gnutls_datum_t text{
                reinterpret_cast<unsigned char*>(const_cast<char*>(pem.data())),
                static_cast<unsigned>(pem.size())};
            check(gnutls_x509_crt_import(revoked_raw, &text, GNUTLS_X509_FMT_PEM),
                  "a revoked certificate's PEM");
            check(gnutls_x509_crl_set_crt(raw, revoked_raw, now + request.this_update.count()),
                  "a CRL entry");
        }
        unsigned char id[64];
        std::size_t id_size = sizeof id;
        check(gnutls_x509_crt_get_subject_key_id(certificate_.get(), id, &id_size, nullptr),
              "CA key id");
        check(gnutls_x509_crl_set_authority_key_id(raw, id, id_size), "CRL key identifier");
        check(gnutls_x509_crl_sign2(raw, certificate_.get(), key_.get(), GNUTLS_DIG_SHA256, 0),
              "signing the CRL");
        detail::datum out;
        check(gnutls_x509_crl_export2(raw, GNUTLS_X509_FMT_PEM, out.out()), "exporting the CRL");
        return std::string(reinterpret_cast<const char*>(out.get()->data), out.get()->size);
    }

private:
    explicit throwaway_ca(detail::x509_privkey_ptr key) : key_(std::move(key)) {}

    static void check(int rc, const char* what) {
        if (rc >= 0)
            return;
        throw std::runtime_error(std::string("throwaway_ca: ") + what + ": " + gnutls_strerror(rc));
    }

    static detail::x509_privkey_ptr generate(key_type type) {
        gnutls_x509_privkey_t raw = nullptr;
        check(gnutls_x509_privkey_init(&raw), "key");
        detail::x509_privkey_ptr key(raw);
        if (type == key_type::ecdsa_p256)
            check(gnutls_x509_privkey_generate(raw, GNUTLS_PK_ECDSA,
                                               GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
                  "key generation");
        else
            check(gnutls_x509_privkey_generate(raw, GNUTLS_PK_RSA, 2048, 0), "key generation");
        return key;
    }

    static std::string to_pem(gnutls_x509_crt_t certificate) {
        detail::datum pem;
        check(gnutls_x509_crt_export2(certificate, GNUTLS_X509_FMT_PEM, pem.out()),
              "exporting the certificate");
        return std::string(reinterpret_cast<const char*>(pem.get()->data), pem.get()->size);
    }

    static detail::x509_crt_ptr
    make_certificate(const std::string& name, gnutls_x509_privkey_t subject_key,
                     gnutls_x509_crt_t issuer, gnutls_x509_privkey_t issuer_key,
                     std::chrono::seconds from, std::chrono::seconds until, bool is_ca,
                     const certificate_request& names) {
        gnutls_x509_crt_t raw = nullptr;
        check(gnutls_x509_crt_init(&raw), "certificate");
        detail::x509_crt_ptr certificate(raw);
        unsigned char serial[16];
        check(gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial), "serial number");
        serial[0] &= 0x7f; // a positive serial number
        check(gnutls_x509_crt_set_serial(raw, serial, sizeof serial), "serial number");
        check(gnutls_x509_crt_set_version(raw, 3), "version");
        const std::time_t now = std::time(nullptr);
        check(gnutls_x509_crt_set_activation_time(raw, now + from.count()), "validity");
        check(gnutls_x509_crt_set_expiration_time(raw, now + until.count()), "validity");
        check(gnutls_x509_crt_set_dn_by_oid(raw, GNUTLS_OID_X520_COMMON_NAME, 0, name.data(),
                                            static_cast<unsigned>(name.size())),
              "subject name");
        check(gnutls_x509_crt_set_key(raw, subject_key), "public key");
        unsigned char id[64];
        std::size_t id_size = sizeof id;
        check(gnutls_x509_crt_get_key_id(raw, GNUTLS_KEYID_USE_SHA1, id, &id_size), "key id");
        check(gnutls_x509_crt_set_subject_key_id(raw, id, id_size), "key id");
        if (issuer != nullptr) {
            unsigned char issuer_id[64];
            std::size_t issuer_id_size = sizeof issuer_id;
            check(gnutls_x509_crt_get_subject_key_id(issuer, issuer_id, &issuer_id_size, nullptr),
                  "issuer key id");
            check(gnutls_x509_crt_set_authority_key_id(raw, issuer_id, issuer_id_size),
                  "authority key id");
        }
        if (is_ca) {
            check(gnutls_x509_crt_set_basic_constraints(raw, 1, -1), "basic constraints");
            check(
                gnutls_x509_crt_set_key_usage(raw, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN),
                "key usage");
        } else {
            check(gnutls_x509_crt_set_basic_constraints(raw, 0, -1), "basic constraints");
            const bool rsa = gnutls_x509_privkey_get_pk_algorithm(subject_key) == GNUTLS_PK_RSA;
            check(gnutls_x509_crt_set_key_usage(raw, rsa ? GNUTLS_KEY_DIGITAL_SIGNATURE |
                                                               GNUTLS_KEY_KEY_ENCIPHERMENT
                                                         : GNUTLS_KEY_DIGITAL_SIGNATURE),
                  "key usage");
            check(gnutls_x509_crt_set_key_purpose_oid(raw, GNUTLS_KP_TLS_WWW_SERVER, 0), "purpose");
            check(gnutls_x509_crt_set_key_purpose_oid(raw, GNUTLS_KP_TLS_WWW_CLIENT, 0), "purpose");
            const auto add = [&](gnutls_x509_subject_alt_name_t kind,
                                 const std::vector<std::string>& values) {
                for (const auto& value : values)
                    check(gnutls_x509_crt_set_subject_alt_name(raw, kind, value.data(),
                                                               static_cast<unsigned>(value.size()),
                                                               GNUTLS_FSAN_APPEND),
                          "subject alt name");
            };
            add(GNUTLS_SAN_DNSNAME, names.dns_names);
            for (const auto& ip : names.ip_addresses) {
                unsigned char address[16];
                const bool v6 = ip.find(':') != std::string::npos;
                if (inet_pton(v6 ? AF_INET6 : AF_INET, ip.c_str(), address) != 1)
                    throw std::runtime_error("throwaway_ca: not an IP address: " + ip);
                check(gnutls_x509_crt_set_subject_alt_name(raw, GNUTLS_SAN_IPADDRESS, address,
                                                           v6 ? 16 : 4, GNUTLS_FSAN_APPEND),
                      "subject alt name");
            }
            add(GNUTLS_SAN_RFC822NAME, names.emails);
            add(GNUTLS_SAN_URI, names.uris);
            for (const auto& upn : names.user_principal_names) {
                // GnuTLS takes the otherName's value DER-encoded: a UTF8String.
                if (upn.size() > 0xffff)
                    throw std::runtime_error("throwaway_ca: user principal name too long");
                std::string der(1, '\x0c');
                if (upn.size() >= 0x80)
                    der += upn.size() > 0xff ? "\x82" + std::string(1, char(upn.size() >> 8))
                                             : std::string("\x81");
                der += static_cast<char>(upn.size() & 0xff);
                der += upn;
                check(gnutls_x509_crt_set_subject_alt_othername(
                          raw, "1.3.6.1.4.1.311.20.2.3", der.data(),
                          static_cast<unsigned>(der.size()), GNUTLS_FSAN_APPEND),
                      "subject alt name");
            }
        }
        // Signing also names the issuer, from the issuer's certificate.
        check(gnutls_x509_crt_sign2(raw, issuer != nullptr ? issuer : raw, issuer_key,
                                    GNUTLS_DIG_SHA256, 0),
              "signing");
        return certificate;
    }

    detail::x509_privkey_ptr key_;
    detail::x509_crt_ptr certificate_;
    std::string certificate_pem_;
};

} // namespace secctx::gnutls
