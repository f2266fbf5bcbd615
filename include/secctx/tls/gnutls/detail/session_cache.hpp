// A client credentials' session cache: the sessions servers gave (TLS 1.3 tickets, TLS 1.2
// sessions), as GnuTLS's packed session data, kept per server name, bounded, and offered to the
// next connection to that name. The data holds the resumption secret: it is wiped when dropped.
#pragma once

#include "secctx/buffer/detail/wipe.hpp"

#include <gnutls/gnutls.h>

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace secctx::gnutls::detail {

class session_cache {
public:
    session_cache() = default;
    session_cache(const session_cache&) = delete;
    session_cache& operator=(const session_cache&) = delete;
    ~session_cache() {
        for (auto& s : sessions_)
            wipe(s.data);
    }

    void configure(bool resume, std::size_t capacity) noexcept {
        resume_ = resume && capacity != 0;
        capacity_ = capacity;
    }

    bool resumes() const noexcept { return resume_; }

    // Offers `session` the newest session cached for `server_name`: taken out for TLS 1.3
    // (tickets are single-use), shared for TLS 1.2.
    void offer(gnutls_session_t session, std::string_view server_name) noexcept {
        if (!resume_ || server_name.empty())
            return;
        std::lock_guard lock(mutex_);
        for (std::size_t i = sessions_.size(); i-- > 0;) {
            auto& cached = sessions_[i];
            if (cached.server_name != server_name)
                continue;
            gnutls_session_set_data(session, cached.data.data(), cached.data.size());
            if (cached.tls13) {
                wipe(cached.data);
                sessions_.erase(sessions_.begin() + static_cast<std::ptrdiff_t>(i));
            }
            return;
        }
    }

    // Caches the session `session` now holds under `server_name`. A TLS 1.2 session replaces the
    // name's older ones; TLS 1.3 tickets add up. The oldest is evicted when the cache is full.
    void keep(gnutls_session_t session, std::string_view server_name) noexcept {
        if (!resume_ || server_name.empty())
            return;
        gnutls_datum_t data{};
        if (gnutls_session_get_data2(session, &data) != GNUTLS_E_SUCCESS)
            return;
        const bool tls13 = gnutls_protocol_get_version(session) == GNUTLS_TLS1_3;
        try {
            std::lock_guard lock(mutex_);
            std::erase_if(sessions_, [&](cached_session& c) {
                const bool replaced = !tls13 && !c.tls13 && c.server_name == server_name;
                if (replaced)
                    wipe(c.data);
                return replaced;
            });
            while (sessions_.size() >= capacity_) {
                wipe(sessions_.front().data);
                sessions_.erase(sessions_.begin());
            }
            sessions_.push_back({std::string(server_name),
                                 std::vector<unsigned char>(data.data, data.data + data.size),
                                 id_of(session), tls13});
        } catch (...) { // out of memory: the session is simply not kept
        }
        gnutls_memset(data.data, 0, data.size);
        gnutls_free(data.data);
    }

    // OpenSSL's rule, for the same behaviour on either engine: a TLS 1.2 session whose
    // connection ended without our close_notify is not resumed.
    void forget(gnutls_session_t session, std::string_view server_name) noexcept {
        if (!resume_ || server_name.empty())
            return;
        try {
            const auto id = id_of(session);
            std::lock_guard lock(mutex_);
            std::erase_if(sessions_, [&](cached_session& c) {
                const bool dropped = !c.tls13 && c.server_name == server_name && c.id == id;
                if (dropped)
                    wipe(c.data);
                return dropped;
            });
        } catch (...) { // out of memory for the id: the session stays
        }
    }

private:
    struct cached_session {
        std::string server_name;
        std::vector<unsigned char> data;
        std::vector<unsigned char> id;
        bool tls13 = false;
    };

    static std::vector<unsigned char> id_of(gnutls_session_t session) {
        gnutls_datum_t id{};
        if (gnutls_session_get_id2(session, &id) != GNUTLS_E_SUCCESS)
            return {};
        return {id.data, id.data + id.size};
    }

    static void wipe(std::vector<unsigned char>& data) noexcept {
        secctx::detail::wipe(data.data(), data.size());
    }

    bool resume_ = false;
    std::size_t capacity_ = 0;
    std::mutex mutex_;
    std::vector<cached_session> sessions_; // oldest first
};

} // namespace secctx::gnutls::detail
