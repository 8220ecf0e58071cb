// KubeClient: requests to the Kubernetes API server over TLS (cpp-httplib with OpenSSL),
// authenticated by bearer token or client certificate (KubeConfig). One request at a
// time per client: a watch holds a client of its own. Not the hot path.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <memory>
#include <string>

#include "gantry/common/result.h"
#include "gantry/controller/sources/kube_config.h"

namespace httplib { class SSLClient; }

namespace gantry::controller {

class KubeClient {
 public:
  explicit KubeClient(KubeConfig config);
  ~KubeClient();
  KubeClient(const KubeClient&) = delete;
  KubeClient& operator=(const KubeClient&) = delete;

  struct Response {
    int status = 0;     // 0: no answer; `error` says why
    std::string body;
    std::string error;
  };
  // GET `target` ("/api/v1/services?limit=500"), as JSON.
  Response get(const std::string& target);
  // POST, PUT or PATCH `body` (of `content_type`: application/json, or for PATCH
  // application/merge-patch+json) to `target`.
  Response send(const std::string& method, const std::string& target, const std::string& body,
                const std::string& content_type = "application/json");

  // Every item of a collection ("/api/v1/services", "/apis/gateway.networking.k8s.io/v1/
  // httproutes"), in pages of `page_size` (API conventions, "Retrieving large results sets
  // in chunks": limit and continue). A continue token that expired (410 Gone) starts the
  // list over, as the conventions ask. resource_version is the list's, for a watch from it.
  struct List {
    std::string resource_version;
    boost::json::array items;
  };
  Result<List> list(const std::string& path, int page_size = 500);

  // One watch request (API conventions, "Efficient detection of changes"): GET `path`
  // with watch=1 from `resource_version`, bookmarks allowed, ended by the server after
  // `timeout_seconds`. Each event ({"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR,
  // "object": ...}) goes to `on_event` as soon as its last byte arrives, whatever the
  // chunk boundaries; `on_event` returning false ends the watch. The result says how it
  // ended: the status (200 when the stream simply closed, 410 when resourceVersion is too
  // old: then relist) or, with status 0, why there was no answer.
  struct WatchEnd {
    int status = 0;
    std::string error;
    std::string last_resource_version;  // of the last event seen (bookmarks included)
  };
  // From another thread: ends the request in progress (a watch waiting for events).
  void stop();

  WatchEnd watch(const std::string& path, const std::string& resource_version, int timeout_seconds,
                 const std::function<bool(const boost::json::object& event)>& on_event);

 private:
  KubeConfig config_;
  std::unique_ptr<httplib::SSLClient> http_;
};

// "a b/c" -> "a%20b%2Fc": a query parameter's value (continue tokens are base64).
std::string url_encode(std::string_view s);

}  // namespace gantry::controller
