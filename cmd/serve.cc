// serve: the controller loop on the main thread: it waits (poll) for signals, file events
// or the cluster's watch events and leadership changes, debounces them, and hands each burst to the Reconciler (files -> store ->
// translate -> publish). translate: the same pipeline once, printed as YAML.
#include "serve.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>

#include "admin.h"
#include "cluster.h"
#include "reconciler.h"
#include "gantry/common/log.h"
#include "gantry/controller/dump.h"
#include "gantry/controller/pipeline/debounce.h"
#include "gantry/controller/sources/file_source.h"
#include "gantry/controller/sources/file_watch.h"

#include "gantry/proxy/worker_pool.h"

namespace gantry::cmd {
namespace json = boost::json;

namespace {

json::object status_list(json::array items) {
  return json::object{{"apiVersion", "v1"}, {"kind", "List"}, {"items", std::move(items)}};
}

}  // namespace

int run_translate(const Flags& flags) {
  controller::FileSource source(flags.manifests);
  controller::ScanReport report = source.scan();
  for (const auto& e : report.errors) std::cerr << e << "\n";
  controller::TranslateResult result = controller::translate(source.store(), flags.translate);
  json::object out{{"snapshot", controller::snapshot_to_json(result.snapshot)},
                   {"status", status_list(controller::to_array(
                                  controller::mark_shadowed(result.status, *result.snapshot.listeners)))}};
  std::cout << controller::to_yaml(out);
  return report.errors.empty() ? 0 : 1;
}

int run_serve(const Flags& flags) {
  // Every connection is a descriptor: the soft limit (often 1024) is raised to the hard
  // one, as nginx's worker_rlimit_nofile and HAProxy do, so --max-connections is the bound.
  if (rlimit nofile{}; getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  // Signals are taken by this thread through a signalfd; every other thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  const int sigfd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);

  proxy::ProxyOptions proxy_options = flags.proxy;
  int access_log_file = -1;
  if (flags.access_log == "stdout") {
    proxy_options.access_log_fd = STDOUT_FILENO;
  } else if (flags.access_log != "off") {
    access_log_file = ::open(flags.access_log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (access_log_file < 0) {
      log::error("--access-log: cannot open " + flags.access_log + ": " + std::strerror(errno));
      return 2;
    }
    proxy_options.access_log_fd = access_log_file;
  }
  proxy::WorkerPool pool(proxy_options);
  StatusBoard board;
  Admin admin(board, pool);
  if (auto ok = admin.start(flags.admin); !ok) {
    log::error(ok.error().message);
    return 2;
  }
  pool.start();

  controller::TranslateOptions options = flags.translate;
  std::unique_ptr<controller::FileSource> files;
  std::unique_ptr<controller::FileWatch> watch;
  Cluster cluster;
  if (flags.cluster()) {
    auto started = start_cluster(flags, sigfd);
    if (!started) {
      log::error(started.error().message);
      pool.drain_and_stop();
      admin.stop();
      return 2;
    }
    cluster = std::move(*started);
    admin.add_metrics([&c = cluster] { return cluster_metrics(c); });
    options.merge_gateways = true;
    options.publish_service = flags.publish_service;
  } else {
    files = std::make_unique<controller::FileSource>(flags.manifests);
    watch = std::make_unique<controller::FileWatch>(flags.manifests);
    if (!watch->ok())
      log::error(watch->error() + "; manifests are polled every " + std::to_string(flags.scan_interval_ms) + " ms instead");
  }
  controller::Source& source = files ? static_cast<controller::Source&>(*files) : *cluster.source;
  log::info(std::string("gantry serving ") + (files ? "manifests" : "the cluster") + "; admin on " + flags.admin + ", " +
            std::to_string(flags.proxy.workers) + " workers");
  const bool watching = files ? watch->ok() : true;
  const int wake_fd = files ? watch->fd() : cluster.source->wake_fd();

  // A burst of file events (an editor's save, a volume's swap, a script writing many files)
  // becomes one translation; a steady stream still publishes every max_delay.
  controller::Debounce debounce(std::chrono::milliseconds(2), std::chrono::milliseconds(100));
  Reconciler reconciler(source, options, pool, board);
  if (cluster.writer)
    reconciler.on_status = [&](const controller::StatusItems& status) {
      cluster.writer->offer(status, cluster.source->observed());
    };
  reconciler.reconcile(true);

  for (;;) {
    using Clock = std::chrono::steady_clock;
    auto now = Clock::now();
    int timeout_ms = -1;  // poll's: -1 waits for an event
    auto sooner = [&](int ms) {
      if (timeout_ms < 0 || ms < timeout_ms) timeout_ms = ms;
    };
    auto at = [&](Clock::time_point t) {
      sooner(static_cast<int>(std::max<int64_t>(0, std::chrono::ceil<std::chrono::milliseconds>(t - now).count())));
    };
    if (auto due = debounce.due()) at(*due);
    else if (!watching) sooner(flags.scan_interval_ms);
    if (reconciler.retiring()) sooner(20);  // free the old snapshot soon
    if (auto trim = reconciler.trim_due(); trim && !debounce.pending()) at(*trim);
    if (auto retry = reconciler.bind_retry_due()) at(*retry);
    pollfd fds[3] = {{sigfd, POLLIN, 0}, {wake_fd, POLLIN, 0}, {cluster.elector ? cluster.elector->wake_fd() : -1, POLLIN, 0}};
    int n = ::poll(fds, 3, timeout_ms);
    now = Clock::now();
    reconciler.release_retired();
    reconciler.retry_binds(now);
    if (!debounce.pending()) reconciler.trim(now);
    bool force = false, stop = false;
    if (n > 0 && (fds[0].revents & POLLIN)) {
      signalfd_siginfo info;
      while (::read(sigfd, &info, sizeof info) == sizeof info) {
        if (info.ssi_signo == SIGHUP) force = true;
        if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) stop = true;
      }
    }
    if (stop) {
      log::info("draining: no new connections; in-flight requests finish");
      break;
    }
    if (n > 0 && (fds[2].revents & POLLIN)) {
      cluster.elector->drain_wake();
      cluster.writer->set_leading(cluster.elector->leading());
      reconciler.offer_status();  // a new leader compares every object's status afresh
    }
    if (n > 0 && (fds[1].revents & POLLIN)) {
      bool changed = true;
      if (files) changed = watch->drain();
      else cluster.source->drain_wake();
      if (changed) debounce.event(now);
    }
    if (!watching && n == 0 && !debounce.pending()) debounce.event(now - std::chrono::hours(1));  // poll mode: due now
    if (force) {
      reconciler.reconcile(true);
      continue;
    }
    if (debounce.take(now)) reconciler.reconcile(false);
  }
  // Another replica takes the Lease at once rather than after it expires.
  if (cluster.elector) cluster.elector->release();
  pool.drain_and_stop();
  admin.stop();
  log::info("stopped");
  return 0;
}

}  // namespace gantry::cmd
