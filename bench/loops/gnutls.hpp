// The best hand-written GnuTLS loop, the counterpart of openssl-custom-bio:
//
//   gnutls-push-pull  one gnutls_session_t per end with push and pull functions over two fixed
//                     byte lanes, each side running only when it has input; the certificate
//                     credentials and the priority cache are the PKI's GnuTLS credentials' own
//                     objects, the client checks the chain and the name with
//                     gnutls_session_set_verify_cert, and the server issues two TLS 1.3 tickets
//                     once the handshake is done (as the OpenSSL loops' server does), from one
//                     ticket key made up front.
// transfer() is gnutls_record_send on the client and gnutls_record_recv on the server.
#pragma once

#include "../pki.hpp"
#include "lane.hpp"

#include <gnutls/gnutls.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <span>
#include <sys/types.h>

namespace secctx::bench {

class gnutls_push_pull_loop {
public:
    explicit gnutls_push_pull_loop(const pki& p)
        : client_credentials_(p.gnutls_client.native_handle()),
          server_credentials_(p.gnutls_server.native_handle()),
          client_priority_(p.gnutls_client.native_priority()),
          server_priority_(p.gnutls_server.native_priority()) {
        if (gnutls_session_ticket_key_generate(&ticket_key_) < 0)
            ticket_key_ = {};
    }

    gnutls_push_pull_loop(const gnutls_push_pull_loop&) = delete;
    gnutls_push_pull_loop& operator=(const gnutls_push_pull_loop&) = delete;

    ~gnutls_push_pull_loop() {
        close();
        if (ticket_key_.data != nullptr) {
            gnutls_memset(ticket_key_.data, 0, ticket_key_.size);
            gnutls_free(ticket_key_.data);
        }
    }

    bool handshake() {
        const bool ok = connect();
        close();
        return ok;
    }

    bool connect() {
        close();
        to_server_.clear();
        to_client_.clear();
        if (ticket_key_.data == nullptr ||
            gnutls_init(&c_, GNUTLS_CLIENT | GNUTLS_NONBLOCK) != GNUTLS_E_SUCCESS ||
            gnutls_init(&s_, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_AUTO_SEND_TICKET) !=
                GNUTLS_E_SUCCESS)
            return false;
        attach(c_, client_end_);
        attach(s_, server_end_);
        const bool ready =
            gnutls_priority_set(c_, client_priority_) == GNUTLS_E_SUCCESS &&
            gnutls_credentials_set(c_, GNUTLS_CRD_CERTIFICATE, client_credentials_) ==
                GNUTLS_E_SUCCESS &&
            gnutls_server_name_set(c_, GNUTLS_NAME_DNS, server_name, std::strlen(server_name)) ==
                GNUTLS_E_SUCCESS &&
            gnutls_priority_set(s_, server_priority_) == GNUTLS_E_SUCCESS &&
            gnutls_credentials_set(s_, GNUTLS_CRD_CERTIFICATE, server_credentials_) ==
                GNUTLS_E_SUCCESS &&
            gnutls_session_ticket_enable_server(s_, &ticket_key_) == GNUTLS_E_SUCCESS;
        if (!ready)
            return false;
        gnutls_session_set_verify_cert(c_, server_name, 0);
        return run() && gnutls_session_ticket_send(s_, 2, 0) == GNUTLS_E_SUCCESS;
    }

    bool transfer(std::span<const std::byte> message, std::span<std::byte> into) {
        if (gnutls_record_send(c_, message.data(), message.size()) !=
            static_cast<ssize_t>(message.size()))
            return false;
        for (std::size_t got = 0; got < into.size();) {
            const ssize_t n = gnutls_record_recv(s_, into.data() + got, into.size() - got);
            if (n <= 0)
                return false;
            got += static_cast<std::size_t>(n);
        }
        return true;
    }

private:
    static void attach(gnutls_session_t session, lane_end& end) {
        gnutls_transport_set_ptr(session, &end);
        gnutls_transport_set_push_function(session, push);
        gnutls_transport_set_pull_function(session, pull);
        gnutls_transport_set_pull_timeout_function(session, pull_timeout);
    }

    static ssize_t push(gnutls_transport_ptr_t end, const void* data, std::size_t size) {
        if (static_cast<lane_end*>(end)->out->write(data, size))
            return static_cast<ssize_t>(size);
        errno = EAGAIN;
        return -1;
    }

    static ssize_t pull(gnutls_transport_ptr_t end, void* data, std::size_t size) {
        const std::size_t n = static_cast<lane_end*>(end)->in->read(data, size);
        if (n != 0)
            return static_cast<ssize_t>(n);
        errno = EAGAIN;
        return -1;
    }

    static int pull_timeout(gnutls_transport_ptr_t end, unsigned) {
        return static_cast<lane_end*>(end)->in->empty() ? 0 : 1;
    }

    // One gnutls_handshake; false on anything but progress or "waiting for the peer".
    static bool advance(gnutls_session_t session, bool& done) {
        if (done)
            return true;
        const int rc = gnutls_handshake(session);
        if (rc == GNUTLS_E_SUCCESS) {
            done = true;
            return true;
        }
        return rc == GNUTLS_E_AGAIN;
    }

    bool run() {
        return take_turns(
            to_server_, to_client_, [this](bool& done) { return advance(c_, done); },
            [this](bool& done) { return advance(s_, done); });
    }

    void close() {
        if (c_ != nullptr)
            gnutls_deinit(c_);
        if (s_ != nullptr)
            gnutls_deinit(s_);
        c_ = s_ = nullptr;
    }

    gnutls_certificate_credentials_t client_credentials_;
    gnutls_certificate_credentials_t server_credentials_;
    gnutls_priority_t client_priority_;
    gnutls_priority_t server_priority_;
    gnutls_datum_t ticket_key_{};
    lane to_server_;
    lane to_client_;
    lane_end client_end_{&to_client_, &to_server_};
    lane_end server_end_{&to_server_, &to_client_};
    gnutls_session_t c_ = nullptr;
    gnutls_session_t s_ = nullptr;
};

} // namespace secctx::bench
