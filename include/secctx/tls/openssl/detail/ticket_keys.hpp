// A server credentials' session ticket keys, in memory only: the current key encrypts new
// tickets, the previous one still decrypts; keys rotate on demand and by age, and are cleansed
// when replaced or destroyed.
#pragma once

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <chrono>
#include <cstring>
#include <mutex>

namespace secctx::openssl::detail {

class ticket_keys {
public:
    ticket_keys() = default;
    ticket_keys(const ticket_keys&) = delete;
    ticket_keys& operator=(const ticket_keys&) = delete;
    ~ticket_keys() {
        OPENSSL_cleanse(&current_key_, sizeof current_key_);
        OPENSSL_cleanse(&previous_key_, sizeof previous_key_);
    }

    // Before any connection: the first key, and the lifetime of every key. False, with no
    // tickets, if the random generator fails.
    bool start(std::chrono::steady_clock::duration lifetime) noexcept {
        std::lock_guard lock(mutex_);
        lifetime_ = lifetime;
        const auto now = std::chrono::steady_clock::now();
        if (!rotate(now, now))
            return false;
        started_ = true;
        return true;
    }

    // A fresh key encrypts new tickets from now on and the current one becomes the previous.
    // False, changing nothing, without keys or when the random generator fails.
    bool rotate() noexcept {
        if (!started_)
            return false;
        std::lock_guard lock(mutex_);
        const auto now = std::chrono::steady_clock::now();
        return rotate(now, now);
    }

    // For OpenSSL's ticket key callback. enc = 1: choose the key for a new ticket (its name and a
    // fresh IV go into the ticket); enc = 0: find the key named by a ticket. Returns 1 (the
    // current key), 2 (renew the ticket: the previous key's, and every TLS 1.3 ticket, as
    // OpenSSL's own keys do, since a TLS 1.3 client uses a ticket once), 0 (unknown key: full
    // handshake) or -1 (failure).
    int prepare(const SSL* ssl, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                EVP_MAC_CTX* mac, int enc) {
        if (!started_)
            return 0;
        ticket_key key;
        int found = 1;
        {
            std::lock_guard lock(mutex_);
            age_keys(std::chrono::steady_clock::now());
            if (enc != 0 || std::memcmp(name, current_key_.name, sizeof key.name) == 0) {
                key = current_key_;
                found = enc == 0 && SSL_version(ssl) >= TLS1_3_VERSION ? 2 : 1;
            } else if (has_previous_ &&
                       std::memcmp(name, previous_key_.name, sizeof key.name) == 0) {
                key = previous_key_;
                found = 2;
            } else {
                return 0;
            }
        }
        const int iv_size = EVP_CIPHER_get_iv_length(EVP_aes_256_cbc());
        if (enc != 0) {
            std::memcpy(name, key.name, sizeof key.name);
            if (RAND_bytes(iv, iv_size) != 1)
                found = -1;
        }
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key.hmac, sizeof key.hmac),
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
            OSSL_PARAM_construct_end()};
        if (found > 0 &&
            (EVP_CipherInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes, iv, enc) != 1 ||
             EVP_MAC_CTX_set_params(mac, params) != 1))
            found = -1;
        OPENSSL_cleanse(&key, sizeof key);
        return found;
    }

private:
    // A session ticket key (RFC 5077 layout, as OpenSSL's own: AES-256-CBC and HMAC-SHA256).
    struct ticket_key {
        unsigned char name[16] = {};
        unsigned char aes[32] = {};
        unsigned char hmac[32] = {};
        std::chrono::steady_clock::time_point since; // made current, or, for the previous key,
                                                     // replaced
    };

    // Under mutex_. A fresh key becomes the current one and the current one the previous,
    // replaced at `replaced` (it decrypts for a lifetime from then); false, nothing changed, if
    // the random generator fails.
    bool rotate(std::chrono::steady_clock::time_point now,
                std::chrono::steady_clock::time_point replaced) noexcept {
        ticket_key fresh;
        if (RAND_bytes(fresh.name, sizeof fresh.name) != 1 ||
            RAND_bytes(fresh.aes, sizeof fresh.aes) != 1 ||
            RAND_bytes(fresh.hmac, sizeof fresh.hmac) != 1) {
            OPENSSL_cleanse(&fresh, sizeof fresh);
            return false;
        }
        fresh.since = now;
        previous_key_ = current_key_;
        previous_key_.since = replaced;
        has_previous_ = has_current_;
        current_key_ = fresh;
        has_current_ = true;
        OPENSSL_cleanse(&fresh, sizeof fresh);
        return true;
    }

    // Under mutex_: rotation by age. Rotation is lazy (at the first ticket after the key's
    // lifetime), but the replaced key counts as replaced when its lifetime ended: it encrypted
    // nothing after that, so its tickets are never decrypted more than two lifetimes after the
    // key was made.
    void age_keys(std::chrono::steady_clock::time_point now) noexcept {
        if (now - current_key_.since >= lifetime_)
            rotate(now, current_key_.since + lifetime_); // on failure: next time
        if (has_previous_ && now - previous_key_.since >= lifetime_) {
            OPENSSL_cleanse(&previous_key_, sizeof previous_key_);
            has_previous_ = false;
        }
    }

    bool started_ = false; // set before any connection, read without the lock
    std::chrono::steady_clock::duration lifetime_{};
    std::mutex mutex_;
    ticket_key current_key_;
    ticket_key previous_key_;
    bool has_current_ = false;
    bool has_previous_ = false;
};

} // namespace secctx::openssl::detail
