// Reconciler: one pass of source -> store -> translate -> publish, with the work
// proportional to the change: when only EndpointSlices changed, the last snapshot's
// clusters take their endpoints again and nothing is translated; when only HTTPRoutes
// (and EndpointSlices) changed, only those routes are translated again
// (controller::translate_routes); anything else is a full translation.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "admin.h"
#include "gantry/controller/sources/source.h"
#include "gantry/controller/translate/translator.h"
#include "gantry/proxy/worker_pool.h"

namespace gantry::cmd {

class Reconciler {
 public:
  Reconciler(controller::Source& source, const controller::TranslateOptions& options, proxy::WorkerPool& pool,
             StatusBoard& board)
      : source_(source), options_(options), pool_(pool), board_(board) {
    options_.regex_cache = &regexes_;
    options_.keep_state = true;
  }

  // Reads what changed and publishes a new snapshot if anything did; `full`: translate
  // everything whatever changed (the first pass, SIGHUP).
  void reconcile(bool full);
  // The snapshot before the newest one is released here, once every worker has moved
  // on, so freeing a large table (thousands of compiled regexes) never stalls a worker.
  bool retiring() const { return retiring_ != nullptr; }
  void release_retired();
  // Parsing and translating a large tree leaves its peak in malloc's free lists. Once the
  // changes have been quiet for a while it is handed back, so the resident size follows
  // the live configuration; not between changes of a burst, which would fault it all in
  // again.
  std::optional<std::chrono::steady_clock::time_point> trim_due() const;
  void trim(std::chrono::steady_clock::time_point now);
  // A listener that could not be bound is tried again every kBindRetry until it can be,
  // its status following.
  std::optional<std::chrono::steady_clock::time_point> bind_retry_due() const { return bind_retry_after_; }
  void retry_binds(std::chrono::steady_clock::time_point now);
  // Cluster mode: each status shown (after every publish and bind retry) goes here too,
  // for write-back; `offer_status` hands it over again (leadership gained, or only the
  // cluster's copy of some status changed).
  std::function<void(const controller::StatusItems&)> on_status;
  void offer_status() {
    if (on_status && shown_) on_status(*shown_);
  }

 private:
  void show(const std::map<std::string, std::string>& unbound, const std::vector<std::string>& errors);
  void publish(routing::Snapshot snapshot, std::shared_ptr<const controller::StatusItems> status,
               const std::vector<std::string>& errors, const char* how, std::chrono::steady_clock::time_point started);

  controller::Source& source_;
  controller::TranslateOptions options_;
  routing::RegexCache regexes_;  // across translations: a change compiles only its new patterns
  proxy::WorkerPool& pool_;
  StatusBoard& board_;
  static constexpr std::chrono::seconds kTrimAfterQuiet{1};
  std::optional<std::chrono::steady_clock::time_point> trim_after_;
  static constexpr std::chrono::seconds kBindRetry{1};
  std::optional<std::chrono::steady_clock::time_point> bind_retry_after_;
  std::vector<std::string> errors_;  // the source's, as of the last publish
  uint64_t version_ = 0;
  routing::SnapshotPtr live_, retiring_;
  std::shared_ptr<controller::TranslationState> state_;  // of the translation behind live_
  std::shared_ptr<const controller::StatusItems> status_;
  std::shared_ptr<const controller::StatusItems> shown_;  // status_ with unbound listeners marked
};

}  // namespace gantry::cmd
