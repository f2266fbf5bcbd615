// A server credentials' resumption state: the session ticket master key (GnuTLS derives the keys
// that encrypt tickets from it and rotates them itself, every ticket lifetime, the previous one
// still decrypting) and the session cache for clients that resume by session ID (TLS 1.2 without
// tickets): bounded, the oldest evicted first, entries wiped as they go.
#pragma once

#include "secctx/buffer/detail/wipe.hpp"

#include <gnutls/gnutls.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace secctx::gnutls::detail {

class ticket_key {
public:
    ticket_key() = default;
    ticket_key(const ticket_key&) = delete;
    ticket_key& operator=(const ticket_key&) = delete;
    ~ticket_key() { erase(); }

    // Before any connection: the first master key. False, with no tickets, if GnuTLS cannot make
    // one.
    bool start() noexcept {
        started_ = rotate();
        return started_;
    }

    // A fresh master key; false, keeping the old one, if GnuTLS cannot make one.
    bool rotate() noexcept {
        gnutls_datum_t fresh{};
        if (gnutls_session_ticket_key_generate(&fresh) != GNUTLS_E_SUCCESS)
            return false;
        std::lock_guard lock(mutex_);
        erase();
        key_ = fresh;
        return true;
    }

    // Set before any connection, read without the lock.
    bool started() const noexcept { return started_; }

    // Lets `session` issue and accept tickets under the current master key (GnuTLS copies it).
    bool enable(gnutls_session_t session) noexcept {
        std::lock_guard lock(mutex_);
        return key_.data != nullptr &&
               gnutls_session_ticket_enable_server(session, &key_) == GNUTLS_E_SUCCESS;
    }

private:
    void erase() noexcept {
        if (key_.data == nullptr)
            return;
        gnutls_memset(key_.data, 0, key_.size);
        gnutls_free(key_.data);
        key_ = {};
    }

    bool started_ = false;
    std::mutex mutex_;
    gnutls_datum_t key_{};
};

class server_session_cache {
public:
    server_session_cache() = default;
    server_session_cache(const server_session_cache&) = delete;
    server_session_cache& operator=(const server_session_cache&) = delete;
    ~server_session_cache() {
        for (auto& [id, entry] : entries_)
            secctx::detail::wipe(entry.data.data(), entry.data.size());
    }

    void configure(std::size_t capacity, std::chrono::seconds lifetime) noexcept {
        capacity_ = capacity;
        lifetime_ = lifetime;
    }

    bool enabled() const noexcept { return capacity_ != 0; }

    void attach(gnutls_session_t session) noexcept {
        gnutls_db_set_ptr(session, this);
        gnutls_db_set_store_function(session, on_store);
        gnutls_db_set_retrieve_function(session, on_retrieve);
        gnutls_db_set_remove_function(session, on_remove);
    }

private:
    struct entry {
        std::vector<unsigned char> data;
        std::chrono::steady_clock::time_point expires;
    };

    static std::string id_of(const gnutls_datum_t& key) {
        return std::string(reinterpret_cast<const char*>(key.data), key.size);
    }

    // Under mutex_.
    void drop(const std::string& id) noexcept {
        const auto found = entries_.find(id);
        if (found == entries_.end())
            return;
        secctx::detail::wipe(found->second.data.data(), found->second.data.size());
        entries_.erase(found);
    }

    static int on_store(void* ptr, gnutls_datum_t key, gnutls_datum_t data) {
        auto& self = *static_cast<server_session_cache*>(ptr);
        try {
            const std::string id = id_of(key);
            std::lock_guard lock(self.mutex_);
            self.drop(id);
            while (!self.order_.empty() && self.entries_.size() >= self.capacity_) {
                self.drop(self.order_.front());
                self.order_.pop_front();
            }
            self.entries_[id] = {std::vector<unsigned char>(data.data, data.data + data.size),
                                 std::chrono::steady_clock::now() + self.lifetime_};
            self.order_.push_back(id);
            // Ids whose entry went first (removed, replaced) are trimmed as the queue turns.
            while (self.order_.size() > 2 * self.capacity_ + 16)
                self.order_.pop_front();
        } catch (...) {
            return -1;
        }
        return 0;
    }

    static gnutls_datum_t on_retrieve(void* ptr, gnutls_datum_t key) {
        auto& self = *static_cast<server_session_cache*>(ptr);
        gnutls_datum_t out{};
        try {
            const std::string id = id_of(key);
            std::lock_guard lock(self.mutex_);
            const auto found = self.entries_.find(id);
            if (found == self.entries_.end())
                return out;
            if (std::chrono::steady_clock::now() >= found->second.expires) {
                self.drop(id);
                return out;
            }
            const auto& data = found->second.data;
            out.data = static_cast<unsigned char*>(gnutls_malloc(data.size()));
            if (out.data != nullptr) {
                std::memcpy(out.data, data.data(), data.size());
                out.size = static_cast<unsigned>(data.size());
            }
        } catch (...) {
        }
        return out;
    }

    static int on_remove(void* ptr, gnutls_datum_t key) {
        auto& self = *static_cast<server_session_cache*>(ptr);
        try {
            const std::string id = id_of(key);
            std::lock_guard lock(self.mutex_);
            self.drop(id);
        } catch (...) {
            return -1;
        }
        return 0;
    }

    std::size_t capacity_ = 0;
    std::chrono::seconds lifetime_{};
    std::mutex mutex_;
    std::unordered_map<std::string, entry> entries_;
    std::deque<std::string> order_; // oldest first; may name entries already gone
};

} // namespace secctx::gnutls::detail
