// Certificate revocation lists for the GnuTLS provider (tls_config::revocation). GnuTLS's trust
// list can hold CRLs, but has no way to require one: a certificate whose issuer has no CRL passes,
// and without GNUTLS_TL_VERIFY_CRL a badly signed CRL still revokes. So the credentials keep their
// own CRLs and the verify function checks each certificate in scope against them, as OpenSSL's
// X509_V_FLAG_CRL_CHECK does: a current CRL signed by the certificate's issuer must be found
// (unless not required), and the certificate must not be on it.
#pragma once

#include "secctx/tls/config.hpp"
#include "secctx/tls/gnutls/detail/handles.hpp"
#include "secctx/tls/gnutls/detail/pem.hpp"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <ctime>
#include <dirent.h>
#include <memory>
#include <string>
#include <vector>

namespace secctx::gnutls::detail {

class revocation_checker {
public:
    enum class outcome { good, revoked, unknown };

    bool enabled() const noexcept { return scope_ != revocation_scope::none; }
    bool required() const noexcept { return required_; }

    // Loads the CRLs, for lists without a revocation_conflict(). Returns what is wrong (and sets
    // `code` to GnuTLS's reason, if any), or an empty string.
    std::string load(const revocation_lists& lists, int& code) {
        if (lists.check == revocation_scope::none)
            return {};
        scope_ = lists.check;
        required_ = lists.require_crl;
        std::string text, why;
        if (!lists.crls.empty()) {
            if (!pem_text(lists.crls, text, why))
                return why;
            if (auto problem = add(text, code); !problem.empty())
                return problem;
        }
        if (!lists.directory.empty()) {
            std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(lists.directory.c_str()), closedir);
            if (!dir)
                return "the CRL directory " + lists.directory + " could not be read";
            while (const dirent* entry = readdir(dir.get())) {
                // A hashed directory's CRLs: HASH.rN (its certificates are HASH.N).
                const std::string name = entry->d_name;
                const auto dot = name.rfind('.');
                if (dot == std::string::npos || dot + 2 > name.size() || name[dot + 1] != 'r')
                    continue;
                if (!pem_text(pem_source::from_file(lists.directory + "/" + name), text, why))
                    return why;
                if (auto problem = add(text, code); !problem.empty())
                    return problem.insert(0, name + ": ");
            }
        }
        return {};
    }

    // The certificates the peer sent (leaf first) against the CRLs, each one's issuer found next
    // in the chain or among the trust anchors. `why` says which certificate and what was wrong.
    outcome check(gnutls_session_t session, gnutls_certificate_credentials_t creds,
                  std::string& why) const {
        unsigned count = 0;
        const gnutls_datum_t* sent = gnutls_certificate_get_peers(session, &count);
        std::vector<x509_crt_ptr> chain;
        for (unsigned i = 0; i < count; ++i) {
            gnutls_x509_crt_t raw = nullptr;
            if (gnutls_x509_crt_init(&raw) < 0)
                return unknown(why, "out of memory");
            chain.emplace_back(raw);
            if (gnutls_x509_crt_import(raw, &sent[i], GNUTLS_X509_FMT_DER) < 0)
                return unknown(why, "a certificate of the chain does not parse");
        }
        gnutls_x509_trust_list_t anchors = nullptr;
        gnutls_certificate_get_trust_list(creds, &anchors);
        const std::size_t last = scope_ == revocation_scope::leaf ? 1 : chain.size();
        for (std::size_t i = 0; i < last && i < chain.size(); ++i) {
            gnutls_x509_crt_t certificate = chain[i].get();
            x509_crt_ptr found;
            gnutls_x509_crt_t issuer = nullptr;
            if (i + 1 < chain.size() &&
                gnutls_x509_crt_check_issuer(certificate, chain[i + 1].get()) != 0) {
                issuer = chain[i + 1].get();
            } else if (gnutls_x509_crt_check_issuer(certificate, certificate) != 0) {
                issuer = certificate; // a self-issued root: its own CRL
            } else if (anchors != nullptr &&
                       gnutls_x509_trust_list_get_issuer(anchors, certificate, &issuer,
                                                         GNUTLS_TL_GET_COPY) >= 0) {
                found.reset(issuer);
            } else {
                return unknown(why, "no issuer to check a CRL against for " + subject(certificate));
            }
            if (const auto r = check_one(certificate, issuer, why); r != outcome::good)
                return r;
        }
        return outcome::good;
    }

private:
    std::string add(const std::string& pem, int& code) {
        gnutls_x509_crl_t* list = nullptr;
        unsigned size = 0;
        const gnutls_datum_t data{reinterpret_cast<unsigned char*>(const_cast<char*>(pem.data())),
                                  static_cast<unsigned>(pem.size())};
        code = gnutls_x509_crl_list_import2(&list, &size, &data, GNUTLS_X509_FMT_PEM,
                                            GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
        for (unsigned i = 0; i < size; ++i)
            crls_.emplace_back(list[i]);
        gnutls_free(list);
        if (code < 0 || size == 0)
            return "the CRLs are not PEM CRLs";
        code = 0;
        return {};
    }

    outcome check_one(gnutls_x509_crt_t certificate, gnutls_x509_crt_t issuer,
                      std::string& why) const {
        const std::time_t now = std::time(nullptr);
        std::string problem = "no CRL from " + subject(issuer);
        for (const auto& crl : crls_) {
            if (gnutls_x509_crl_check_issuer(crl.get(), issuer) == 0)
                continue;
            unsigned status = 0;
            if (gnutls_x509_crl_verify(crl.get(), &issuer, 1, 0, &status) < 0 || status != 0) {
                problem = "the CRL from " + subject(issuer) + " is not signed by it";
                continue;
            }
            const std::time_t next = gnutls_x509_crl_get_next_update(crl.get());
            if (gnutls_x509_crl_get_this_update(crl.get()) > now) {
                problem = "the CRL from " + subject(issuer) + " is not yet valid";
                continue;
            }
            if (next != static_cast<std::time_t>(-1) && next <= now) {
                problem = "the CRL from " + subject(issuer) + " has expired";
                continue;
            }
            gnutls_x509_crl_t one = crl.get();
            if (gnutls_x509_crt_check_revocation(certificate, &one, 1) == 1) {
                why = subject(certificate) + " is revoked by the CRL from " + subject(issuer);
                return outcome::revoked;
            }
            return outcome::good;
        }
        if (!required_)
            return outcome::good;
        return unknown(why, problem + ", for " + subject(certificate));
    }

    static outcome unknown(std::string& why, std::string problem) {
        why = std::move(problem);
        return outcome::unknown;
    }

    static std::string subject(gnutls_x509_crt_t certificate) {
        gnutls_datum_t dn{};
        if (gnutls_x509_crt_get_dn3(certificate, &dn, 0) < 0)
            return "a certificate";
        std::string text(reinterpret_cast<const char*>(dn.data), dn.size);
        gnutls_free(dn.data);
        return text;
    }

    revocation_scope scope_ = revocation_scope::none;
    bool required_ = true;
    std::vector<x509_crl_ptr> crls_;
};

} // namespace secctx::gnutls::detail
