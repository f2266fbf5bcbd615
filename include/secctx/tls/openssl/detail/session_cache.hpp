// A client credentials' session cache: the sessions servers gave (TLS 1.3 tickets, TLS 1.2
// sessions), kept per server name, bounded, and offered to the next connection to that name. Each
// client connection keeps its own record in its SSL (ex_data).
#pragma once

#include "secctx/tls/openssl/detail/handles.hpp"

#include <openssl/ssl.h>

#include <cstddef>
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
    // sessions it receives. Without memory, the connection simply does neither.
    void prepare(SSL* ssl, std::string_view server_name) noexcept {
        const bool resume = resume_ && !server_name.empty();
        std::unique_ptr<connection_sessions> connection;
        try {
            connection = std::make_unique<connection_sessions>();
            if (resume)
                connection->server_name.assign(server_name);
        } catch (...) {
            return;
        }
        if (SSL_set_ex_data(ssl, connection_index(), connection.get()) != 1)
            return;
        connection.release(); // the SSL owns it now: free_connection
        if (!resume)
            return;
        if (const auto session = take(server_name))
            SSL_set_session(ssl, session.get());
    }

    // The sessions (tickets) a client connection has received.
    static unsigned received(const SSL* ssl) noexcept {
        const connection_sessions* connection = connection_of(ssl);
        return connection != nullptr ? connection->received : 0;
    }

    // A new session from the server (a TLS 1.3 ticket, or a TLS 1.2 full handshake's session):
    // counted for the connection, and cached under its name. True when the cache keeps the
    // reference OpenSSL handed over.
    bool add(SSL* ssl, SSL_SESSION* session) {
        connection_sessions* connection = connection_of(ssl);
        if (connection == nullptr)
            return false;
        ++connection->received;
        if (!resume_ || connection->server_name.empty())
            return false;
        return keep(connection->server_name, session);
    }

    // At the end of a handshake. A resumed TLS 1.2 handshake gives no new session, but the server
    // may have renewed the ticket (one of its previous key): the session now in use replaces the
    // cached one.
    void handshake_done(const SSL* ssl) {
        if (SSL_version(ssl) >= TLS1_3_VERSION || SSL_session_reused(ssl) != 1)
            return;
        const connection_sessions* connection = connection_of(ssl);
        SSL_SESSION* session = SSL_get_session(ssl);
        if (connection == nullptr || connection->server_name.empty() || session == nullptr ||
            SSL_SESSION_up_ref(session) != 1)
            return;
        if (!keep(connection->server_name, session))
            SSL_SESSION_free(session);
    }

private:
    struct cached_session {
        std::string server_name;
        ssl_session_ptr session;
    };

    // What a client connection keeps in its SSL (ex_data): the name its sessions are cached
    // under and the sessions it received.
    struct connection_sessions {
        std::string server_name; // empty: nothing cached
        unsigned received = 0;
    };

    static int connection_index() noexcept {
        static const int index =
            SSL_get_ex_new_index(0, nullptr, nullptr, forget_connection, free_connection);
        return index;
    }

    static connection_sessions* connection_of(const SSL* ssl) noexcept {
        return static_cast<connection_sessions*>(SSL_get_ex_data(ssl, connection_index()));
    }

    static void free_connection(void*, void* data, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<connection_sessions*>(data);
    }

    // SSL_dup: the copy starts with nothing (sharing the pointer would free it twice).
    static int forget_connection(CRYPTO_EX_DATA*, const CRYPTO_EX_DATA*, void** data, int, long,
                                 void*) {
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
