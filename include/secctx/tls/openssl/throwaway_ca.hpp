// A certificate authority made in memory, for demos and tests: it issues leaf certificates (ECDSA
// P-256 or RSA-2048) with the names, validity and key usages asked for, as PEM text that the
// credentials accept. Never use it for anything that must be trusted: its key lives in memory and
// dies with the object. Throws std::runtime_error when OpenSSL fails (it is not a hot path).
#pragma once

#include "secctx/tls/certificate_request.hpp"
#include "secctx/tls/openssl/detail/handles.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>

namespace secctx::openssl {

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
        openssl::detail::bio_ptr bio(BIO_new(BIO_s_mem()));
        check(bio && PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr,
                                              nullptr) == 1,
              "PEM_write_bio_PrivateKey");
        out.private_key_pem = read_all(bio.get());
        return out;
    }

    // A CRL signed by this CA (PEM, version 2, with the authority key identifier) listing the
    // serial numbers of `request.revoked`.
    std::string revocation_list(const revocation_request& request) const {
        openssl::detail::x509_crl_ptr crl(X509_CRL_new());
        check(crl != nullptr && X509_CRL_set_version(crl.get(), 1) == 1 &&
                  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(certificate_.get())) ==
                      1,
              "CRL");
        openssl::detail::asn1_time_ptr last(
            X509_time_adj_ex(nullptr, 0, static_cast<long>(request.this_update.count()), nullptr));
        openssl::detail::asn1_time_ptr next(
            X509_time_adj_ex(nullptr, 0, static_cast<long>(request.next_update.count()), nullptr));
        check(last && next && X509_CRL_set1_lastUpdate(crl.get(), last.get()) == 1 &&
                  X509_CRL_set1_nextUpdate(crl.get(), next.get()) == 1,
              "CRL dates");
        for (const auto& pem : request.revoked) {
            const auto revoked = read_certificate(pem);
            openssl::detail::x509_revoked_ptr entry(X509_REVOKED_new());
            check(entry &&
                      X509_REVOKED_set_serialNumber(entry.get(),
                                                    X509_get_serialNumber(revoked.get())) == 1 &&
                      X509_REVOKED_set_revocationDate(entry.get(), last.get()) == 1 &&
                      X509_CRL_add0_revoked(crl.get(), entry.get()) == 1,
                  "a CRL entry");
            static_cast<void>(entry.release()); // the CRL owns it now
        }
        check(X509_CRL_sort(crl.get()) == 1, "X509_CRL_sort");
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, certificate_.get(), nullptr, nullptr, crl.get(), 0);
        openssl::detail::x509_extension_ptr aki(
            X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
        check(aki && X509_CRL_add_ext(crl.get(), aki.get(), -1) == 1, "CRL key identifier");
        check(X509_CRL_sign(crl.get(), key_.get(), EVP_sha256()) > 0, "X509_CRL_sign");
        openssl::detail::bio_ptr out(BIO_new(BIO_s_mem()));
        check(out && PEM_write_bio_X509_CRL(out.get(), crl.get()) == 1, "PEM_write_bio_X509_CRL");
        return read_all(out.get());
    }

    // An OCSP response (DER, as `openssl ocsp -respout` writes it) signed by this CA itself, about
    // one certificate it issued, with a SHA-1 certificate ID as RFC 6960 profiles for clients.
    std::string ocsp_response(const ocsp_response_request& request) const {
        const auto subject = read_certificate(request.certificate_pem);
        openssl::detail::ocsp_basicresp_ptr basic(OCSP_BASICRESP_new());
        check(basic != nullptr, "OCSP_BASICRESP_new");
        auto* id = OCSP_cert_to_id(EVP_sha1(), subject.get(), certificate_.get());
        check(id != nullptr, "OCSP_cert_to_id");
        openssl::detail::ocsp_certid_ptr owned_id(id);
        openssl::detail::asn1_time_ptr this_update(
            X509_time_adj_ex(nullptr, 0, static_cast<long>(request.this_update.count()), nullptr));
        openssl::detail::asn1_time_ptr next_update(
            X509_time_adj_ex(nullptr, 0, static_cast<long>(request.next_update.count()), nullptr));
        check(this_update && next_update, "OCSP dates");
        int status = V_OCSP_CERTSTATUS_GOOD;
        if (request.status == ocsp_certificate_status::revoked)
            status = V_OCSP_CERTSTATUS_REVOKED;
        else if (request.status == ocsp_certificate_status::unknown)
            status = V_OCSP_CERTSTATUS_UNKNOWN;
        check(OCSP_basic_add1_status(basic.get(), id, status, OCSP_REVOKED_STATUS_KEYCOMPROMISE,
                                     this_update.get(), this_update.get(),
                                     request.has_next_update ? next_update.get() : nullptr) !=
                  nullptr,
              "OCSP_basic_add1_status");
        check(OCSP_basic_sign(basic.get(), certificate_.get(), key_.get(), EVP_sha256(), nullptr,
                              OCSP_NOCERTS) == 1,
              "OCSP_basic_sign");
        openssl::detail::ocsp_response_ptr response(
            OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
        check(response != nullptr, "OCSP_response_create");
        openssl::detail::bio_ptr out(BIO_new(BIO_s_mem()));
        check(out && i2d_OCSP_RESPONSE_bio(out.get(), response.get()) == 1, "i2d_OCSP_RESPONSE");
        return read_all(out.get());
    }

private:
    explicit throwaway_ca(openssl::detail::evp_pkey_ptr key) : key_(std::move(key)) {}

    static openssl::detail::x509_ptr read_certificate(const std::string& pem) {
        openssl::detail::bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
        openssl::detail::x509_ptr certificate(
            bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
        check(certificate != nullptr, "a certificate's PEM");
        return certificate;
    }

    static void check(bool ok, const char* what) {
        if (ok)
            return;
        char reason[256] = {};
        ERR_error_string_n(ERR_get_error(), reason, sizeof reason);
        ERR_clear_error();
        throw std::runtime_error(std::string("throwaway_ca: ") + what + ": " + reason);
    }

    static openssl::detail::evp_pkey_ptr generate(key_type type) {
        openssl::detail::evp_pkey_ptr key(type == key_type::ecdsa_p256 ? EVP_EC_gen("P-256")
                                                                       : EVP_RSA_gen(2048));
        check(key != nullptr, "key generation");
        return key;
    }

    static std::string read_all(BIO* bio) {
        char* data = nullptr;
        const long size = BIO_get_mem_data(bio, &data);
        return std::string(data, static_cast<std::size_t>(size));
    }

    static std::string to_pem(X509* certificate) {
        openssl::detail::bio_ptr bio(BIO_new(BIO_s_mem()));
        check(bio && PEM_write_bio_X509(bio.get(), certificate) == 1, "PEM_write_bio_X509");
        return read_all(bio.get());
    }

    static void add_extension(X509* certificate, X509* issuer, int nid, const std::string& value) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : certificate, certificate, nullptr,
                       nullptr, 0);
        openssl::detail::x509_extension_ptr extension(
            X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
        check(extension && X509_add_ext(certificate, extension.get(), -1) == 1, "X509_add_ext");
    }

    static openssl::detail::x509_ptr
    make_certificate(const std::string& name, EVP_PKEY* subject_key, X509* issuer,
                     EVP_PKEY* issuer_key, std::chrono::seconds from, std::chrono::seconds until,
                     bool is_ca, const certificate_request& names) {
        openssl::detail::x509_ptr certificate(X509_new());
        check(certificate != nullptr, "X509_new");
        X509* c = certificate.get();
        unsigned char serial_bytes[16];
        check(RAND_bytes(serial_bytes, sizeof serial_bytes) == 1, "RAND_bytes");
        serial_bytes[0] &= 0x7f; // a positive serial number
        BIGNUM* serial = BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr);
        const bool serial_set =
            serial != nullptr && BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(c)) != nullptr;
        BN_free(serial);
        check(serial_set && X509_set_version(c, 2) == 1, "serial number");
        check(X509_gmtime_adj(X509_getm_notBefore(c), static_cast<long>(from.count())) &&
                  X509_gmtime_adj(X509_getm_notAfter(c), static_cast<long>(until.count())),
              "validity");
        X509_NAME* subject = X509_get_subject_name(c);
        check(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                         reinterpret_cast<const unsigned char*>(name.c_str()), -1,
                                         -1, 0) == 1,
              "subject name");
        check(X509_set_issuer_name(c, issuer != nullptr ? X509_get_subject_name(issuer)
                                                        : subject) == 1,
              "issuer name");
        check(X509_set_pubkey(c, subject_key) == 1, "public key");
        add_extension(c, issuer, NID_subject_key_identifier, "hash");
        if (issuer != nullptr)
            add_extension(c, issuer, NID_authority_key_identifier, "keyid:always");
        if (is_ca) {
            add_extension(c, issuer, NID_basic_constraints, "critical,CA:TRUE");
            add_extension(c, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
        } else {
            add_extension(c, issuer, NID_basic_constraints, "critical,CA:FALSE");
            add_extension(c, issuer, NID_key_usage,
                          EVP_PKEY_is_a(subject_key, "RSA")
                              ? "critical,digitalSignature,keyEncipherment"
                              : "critical,digitalSignature");
            add_extension(c, issuer, NID_ext_key_usage, "serverAuth,clientAuth");
            std::string alt_names;
            // Appended piece by piece: GCC 12's -O3 takes operator+ on temporaries here for an
            // overlapping memcpy (-Wrestrict), a false positive that a user's build would show.
            const auto add = [&](const char* kind, const std::vector<std::string>& values) {
                for (const auto& value : values) {
                    if (!alt_names.empty())
                        alt_names += ',';
                    alt_names += kind;
                    alt_names += value;
                }
            };
            add("DNS:", names.dns_names);
            add("IP:", names.ip_addresses);
            add("email:", names.emails);
            add("URI:", names.uris);
            add("otherName:1.3.6.1.4.1.311.20.2.3;UTF8:", names.user_principal_names);
            if (!alt_names.empty())
                add_extension(c, issuer, NID_subject_alt_name, alt_names);
        }
        check(X509_sign(c, issuer_key, EVP_sha256()) > 0, "X509_sign");
        return certificate;
    }

    openssl::detail::evp_pkey_ptr key_;
    openssl::detail::x509_ptr certificate_;
    std::string certificate_pem_;
};

} // namespace secctx::openssl
