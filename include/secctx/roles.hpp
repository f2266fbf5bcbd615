// The two roles of the source document: the client initializes the context and speaks first; the
// server accepts it and waits for the client's token. Each owns the provider it configures; the
// provider is always named (an engine's header gives the aliases: openssl::client, ...).
#pragma once

#include "secctx/role.hpp"

#include <string_view>

namespace secctx {

template <class Provider>
class basic_client {
public:
    using provider_type = Provider;
    static constexpr role_kind kind = role_kind::client;

    // `server_name` is the name the server's certificate must match (and the SNI sent).
    basic_client(const typename Provider::credentials_type& creds,
                 std::string_view server_name) noexcept
        : provider_(creds, kind, server_name) {}

    Provider& provider() noexcept { return provider_; }
    const Provider& provider() const noexcept { return provider_; }

private:
    Provider provider_;
};

template <class Provider>
class basic_server {
public:
    using provider_type = Provider;
    static constexpr role_kind kind = role_kind::server;

    explicit basic_server(const typename Provider::credentials_type& creds) noexcept
        : provider_(creds, kind) {}

    Provider& provider() noexcept { return provider_; }
    const Provider& provider() const noexcept { return provider_; }

private:
    Provider provider_;
};

} // namespace secctx
