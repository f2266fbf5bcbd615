// The engine secctx uses when none is named: OpenSSL 3.
#pragma once

#include "secctx/tls/openssl/attributes.hpp"
#include "secctx/tls/openssl/credentials.hpp"
#include "secctx/tls/openssl/provider.hpp"

namespace secctx {

using default_provider = openssl::provider;
using credentials = default_provider::credentials_type;

} // namespace secctx
