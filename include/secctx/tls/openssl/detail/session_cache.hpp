// A client credentials' session cache: the sessions servers gave (TLS 1.3 tickets, TLS 1.2
// sessions), kept per server name, bounded, and offered to the next connection to that name. Each
// client connection counts the sessions it received in its SSL (ex_data, as an integer: no
// allocation), and a resuming connection also keeps there the name its sessions are cached under.
#pragma once

#include "secctx/tls/openssl/detail/handles.hpp"

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace secctx::openssl::detail {

class session_cache {
public:
    session_cache() = default;
    session_cache(const session_cache&) = delete;
    session_cache& operator=(const session_cache&) = delete;

    // Before any connection: whether sessions are cached and resumed, and how many are kept.
    void configure(bool resume, std::size_t capacity) noexcept {
        resume_ = resume && capacity != 0;
        capacity_ = capacity;
    }

    bool resumes() const noexcept { return resume_; }

    // A client connection to `server_name` offers the session cached for it, and counts the
    // sessions it receives. Only a resuming connection allocates (the name it caches under);
    // without memory for it, the connection simply does not resume.
    void prepare(SSL* ssl, std::string_view server_name) noexcept {
        if (!resume_ || server_name.empty())
            return;
        std::unique_ptr<std::string> name;
        try {
            name = std::make_unique<std::string>(server_name);
        } catch (...) {
            return;
        }
        if (SSL_set_ex_data(ssl, name_index(), name.get()) != 1)
            return;
        static_cast<void>(name.release()); // the SSL owns it now: free_name
        if (const auto session = take(server_name))
            SSL_set_session(ssl, session.get());
    }

    // The sessions (tickets) a client connection has received.
    static unsigned received(const SSL* ssl) noexcept {
        return static_cast<unsigned>(
            reinterpret_cast<std::uintptr_t>(SSL_get_ex_data(ssl, received_index())));
    }

    // A new session from the server (a TLS 1.3 ticket, or a TLS 1.2 full handshake's session):
    // counted for the connection, and cached under its name. True when the cache keeps the
    // reference OpenSSL handed over.
    bool add(SSL* ssl, SSL_SESSION* session) {
        // ex_data holds a pointer; the count is kept in it as an integer, never dereferenced.
        SSL_set_ex_data(ssl, received_index(),
                        reinterpret_cast<void*>( // NOLINT(performance-no-int-to-ptr)
                            static_cast<std::uintptr_t>(received(ssl)) + 1));
        const std::string* name = name_of(ssl);
        return name != nullptr && keep(*name, session);
    }

    // At the end of a handshake. A resumed TLS 1.2 handshake gives no new session, but the server
    // may have renewed the ticket (one of its previous key): the session now in use replaces the
    // cached one.
    void handshake_done(const SSL* ssl) {
        if (SSL_version(ssl) >= TLS1_3_VERSION || SSL_session_reused(ssl) != 1)
            return;
        const std::string* name = name_of(ssl);
        SSL_SESSION* session = SSL_get_session(ssl);
        if (name == nullptr || session == nullptr || SSL_SESSION_up_ref(session) != 1)
            return;
        if (!keep(*name, session))
            SSL_SESSION_free(session);
    }

private:
    struct cached_session {
        std::string server_name;
        ssl_session_ptr session;
    };

    static int received_index() noexcept {
        static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, forget, nullptr);
        return index;
    }

    static int name_index() noexcept {
        static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, forget, free_name);
        return index;
    }

    static const std::string* name_of(const SSL* ssl) noexcept {
        return static_cast<const std::string*>(SSL_get_ex_data(ssl, name_index()));
    }

    static void free_name(void*, void* data, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<std::string*>(data);
    }

    // SSL_dup: the copy starts with nothing (sharing the name would free it twice).
    static int forget(CRYPTO_EX_DATA*, const CRYPTO_EX_DATA*, void** data, int, long, void*) {
        *data = nullptr;
        return 1;
    }

    static bool expired(const SSL_SESSION* session) noexcept {
        const auto start = static_cast<std::time_t>(SSL_SESSION_get_time(session));
        const auto lifetime = static_cast<std::time_t>(SSL_SESSION_get_timeout(session));
        return start + lifetime <= std::time(nullptr) || SSL_SESSION_is_resumable(session) != 1;
    }

    // Caches `session` under `server_name`, taking over the reference: true if it did. A TLS 1.2
    // session replaces the name's older ones; TLS 1.3 tickets add up (each is good for one
    // resumption). The oldest is evicted when the cache is full.
    bool keep(const std::string& server_name, SSL_SESSION* session) noexcept {
        const bool tls13 = SSL_SESSION_get_protocol_version(session) >= TLS1_3_VERSION;
        try {
            std::lock_guard lock(mutex_);
            std::erase_if(sessions_, [&](const cached_session& c) {
                return (!tls13 && c.server_name == server_name) || expired(c.session.get());
            });
            while (sessions_.size() >= capacity_)
                sessions_.erase(sessions_.begin());
            sessions_.push_back({server_name, nullptr});
            sessions_.back().session.reset(session);
        } catch (...) { // out of memory: the session is simply not kept
            return false;
        }
        return true;
    }

    // The newest session cached for `server_name`: taken out for TLS 1.3 (tickets are
    // single-use), shared for TLS 1.2.
    ssl_session_ptr take(std::string_view server_name) noexcept {
        std::lock_guard lock(mutex_);
        for (std::size_t i = sessions_.size(); i-- > 0;) {
            auto& cached = sessions_[i];
            if (cached.server_name != server_name)
                continue;
            if (expired(cached.session.get())) {
                sessions_.erase(sessions_.begin() + static_cast<std::ptrdiff_t>(i));
                continue;
            }
            if (SSL_SESSION_get_protocol_version(cached.session.get()) >= TLS1_3_VERSION) {
                ssl_session_ptr taken = std::move(cached.session);
                sessions_.erase(sessions_.begin() + static_cast<std::ptrdiff_t>(i));
                return taken;
            }
            SSL_SESSION_up_ref(cached.session.get());
            return ssl_session_ptr(cached.session.get());
        }
        return nullptr;
    }

    bool resume_ = false;
    std::size_t capacity_ = 0;
    std::mutex mutex_;
    std::vector<cached_session> sessions_; // oldest first
};

} // namespace secctx::openssl::detail
