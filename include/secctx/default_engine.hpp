// The engine behind the short names (secctx::client, secctx::server, secctx::credentials,
// secctx::throwaway_ca): OpenSSL 3, or GnuTLS where the build defines SECCTX_DEFAULT_ENGINE_GNUTLS
// (and links secctx::gnutls). Every translation unit of a program must make the same choice. Code
// that names its engine (secctx::openssl::client, secctx::gnutls::client) does not depend on it.
#pragma once

#if defined(SECCTX_DEFAULT_ENGINE_GNUTLS)
#include "secctx/gnutls.hpp"
#else
#include "secctx/openssl.hpp"
#endif

namespace secctx {

#if defined(SECCTX_DEFAULT_ENGINE_GNUTLS)
namespace default_engine = gnutls;
#else
namespace default_engine = openssl;
#endif

using default_provider = default_engine::provider;
using credentials = default_engine::credentials;
using client = default_engine::client;
using server = default_engine::server;
using throwaway_ca = default_engine::throwaway_ca;

} // namespace secctx
