// Everything in one include.
#pragma once

#include "secctx/buffer/buffer_policy.hpp"
#include "secctx/buffer/dynamic.hpp"
#include "secctx/channel.hpp"
#include "secctx/error.hpp"
#include "secctx/handshake.hpp"
#include "secctx/limits.hpp"
#include "secctx/metrics.hpp"
#include "secctx/role.hpp"
#include "secctx/roles.hpp"
#include "secctx/step_result.hpp"
#include "secctx/tls/config.hpp"
#include "secctx/tls/default_provider.hpp"
#include "secctx/tls/openssl/throwaway_ca.hpp"
#include "secctx/tls/provider.hpp"
#include "secctx/transport/memory.hpp"
#include "secctx/transport/transport.hpp"
