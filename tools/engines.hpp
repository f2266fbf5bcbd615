// The engines the tool offers (--engine), for the commands' templates.
#pragma once

#include "secctx/gnutls.hpp"
#include "secctx/openssl.hpp"

namespace secctx::tool {

// Each names its credentials and roles.
struct openssl_engine {
    using credentials = secctx::openssl::credentials;
    using client = secctx::openssl::client;
    using server = secctx::openssl::server;
    static constexpr const char* name = "openssl";
};

struct gnutls_engine {
    using credentials = secctx::gnutls::credentials;
    using client = secctx::gnutls::client;
    using server = secctx::gnutls::server;
    static constexpr const char* name = "gnutls";
};

} // namespace secctx::tool
