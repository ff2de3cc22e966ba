/*
 * zkc drives ZooKeeper's own C client (libzookeeper_mt, Debian's
 * libzookeeper-mt-dev) through a fixed script against one server and prints
 * one line per step: the call's result and what it returned, with zxids
 * relative to the script's first create and times left out, so that two
 * servers that behave alike print the same text. Watch events are printed
 * in the order the client delivered them, before the result of the call
 * whose reply followed them. TestInteropCClient (internal/wire) runs it
 * against a real ZooKeeper 3.8 and a zk peer and compares the outputs.
 *
 * Usage: zkc host:port
 *        zkc -move proxy:port hostB:port
 *
 * -move runs the second script, for an ensemble: a session watching on
 * server A, through the test's proxy, loses it (the test cuts the proxy
 * when the script prints "@cut"), another session on B changes what it
 * watched, and the first session comes back on B (the proxy leads there
 * after "@to-b"), which fires the watches it missed (setWatches). The test
 * answers each "@" line with a line on stdin.
 *
 *        zkc -ro host:port
 *
 * -ro runs the third script against a server in read-only mode (cut off
 * from its quorum): a session that allows read-only mode connects, reads
 * /ro (which the test made before), and has every write refused; one that
 * does not allow it is not let in.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zookeeper/zookeeper.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static char events[8192];   /* watch events not printed yet, under mu */
static int64_t base;        /* the first create's czxid */

static const char *typeName(int t) {
    if (t == ZOO_CREATED_EVENT) return "created";
    if (t == ZOO_DELETED_EVENT) return "deleted";
    if (t == ZOO_CHANGED_EVENT) return "changed";
    if (t == ZOO_CHILD_EVENT) return "child";
    if (t == ZOO_SESSION_EVENT) return "session";
    if (t == ZOO_NOTWATCHING_EVENT) return "notwatching";
    return "?";
}

static const char *stateName(int s) {
    if (s == ZOO_CONNECTED_STATE) return "connected";
    if (s == ZOO_EXPIRED_SESSION_STATE) return "expired";
    if (s == ZOO_AUTH_FAILED_STATE) return "authfailed";
    if (s == ZOO_CONNECTING_STATE) return "connecting";
    if (s == ZOO_READONLY_STATE) return "readonly";
    return "other";
}

/* watcher records every event; a handle's context names it (h1, h2...). */
static void watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx) {
    const char *name = zoo_get_context(zh) ? (const char *)zoo_get_context(zh) : "?";
    pthread_mutex_lock(&mu);
    size_t n = strlen(events);
    if (type == ZOO_SESSION_EVENT) {
        snprintf(events + n, sizeof events - n, "  %s: session %s\n", name, stateName(state));
    } else {
        snprintf(events + n, sizeof events - n, "  %s: %s %s (%s)\n", name, typeName(type), path,
                 ctx ? (const char *)ctx : "default");
    }
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* The handles step waits on; main adds and removes them. */
static zhandle_t *live[4];

static void fail(const char *what);

static void barrierDone(int rc, const struct Stat *st, const void *data) {
    (void)rc;
    (void)st;
    pthread_mutex_lock(&mu);
    *(int *)data = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* barrier returns when every event zh's connection received before the
 * reply to a new request has been delivered. The client hands a synchronous
 * call's reply to its caller from its I/O thread, but events and
 * asynchronous completions to one completion thread in the order they
 * arrived, so an asynchronous call's completion follows every earlier event. */
static void barrier(zhandle_t *zh) {
    int done = 0;
    if (zoo_aexists(zh, "/", 0, barrierDone, &done) != ZOK) return;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&mu);
    while (!done && pthread_cond_timedwait(&cv, &mu, &until) != ETIMEDOUT) {
    }
    int ok = done;
    pthread_mutex_unlock(&mu);
    if (!ok) fail("a barrier's exists had no answer within 10 s"); /* exits: done stays valid */
}

/* step prints the events delivered so far, then the step's own line. */
static void step(const char *fmt, ...) {
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++) {
        if (live[i]) barrier(live[i]);
    }
    pthread_mutex_lock(&mu);
    fputs(events, stdout);
    events[0] = 0;
    pthread_mutex_unlock(&mu);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void fail(const char *what) {
    memset(live, 0, sizeof live); /* no barriers: print what has come */
    step("FAIL %s", what);
    exit(1);
}

/* dropEvents removes the pending events that contain text. */
static void dropEvents(const char *text) {
    pthread_mutex_lock(&mu);
    char copy[sizeof events];
    snprintf(copy, sizeof copy, "%s", events);
    events[0] = 0;
    for (char *l = strtok(copy, "\n"); l; l = strtok(NULL, "\n")) {
        size_t len = strlen(events);
        if (!strstr(l, text)) snprintf(events + len, sizeof events - len, "%s\n", l);
    }
    pthread_mutex_unlock(&mu);
}

/* settle waits until zh is connected and has had no event containing
 * text for two barriers in a row, and drops those events. */
static void settle(zhandle_t *zh, const char *text) {
    int quiet = 0;
    for (int i = 0; i < 1000 && quiet < 2; i++) {
        if (zoo_state(zh) != ZOO_CONNECTED_STATE) {
            struct timespec ms = {0, 10 * 1000 * 1000};
            nanosleep(&ms, NULL);
            quiet = 0;
            continue;
        }
        barrier(zh);
        pthread_mutex_lock(&mu);
        int seen = strstr(events, text) != NULL;
        pthread_mutex_unlock(&mu);
        quiet = seen ? 0 : quiet + 1;
        dropEvents(text);
    }
    if (quiet < 2) fail("the handle did not settle");
}

static int count(const char *text) {
    int n = 0;
    for (const char *p = strstr(events, text); p; p = strstr(p + 1, text)) n++;
    return n;
}

/* waitEvents waits up to 10 s for n pending events containing text. */
static int waitEvents(const char *text, int n) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&mu);
    int found;
    while (!(found = count(text) >= n)) {
        if (pthread_cond_timedwait(&cv, &mu, &until) == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&mu);
    return found;
}

/* waitEvent waits up to 10 s for text in the pending events. */
static int waitEvent(const char *text) { return waitEvents(text, 1); }

static int64_t rel(int64_t zxid) { return zxid == 0 ? 0 : zxid - base; }

static const char *statText(const struct Stat *s, zhandle_t *zh) {
    static char buf[256];
    int64_t owner = s->ephemeralOwner;
    const char *who = owner == 0 ? "none" : owner == zoo_client_id(zh)->client_id ? "self" : "other";
    snprintf(buf, sizeof buf, "czxid=%+lld mzxid=%+lld pzxid=%+lld ver=%d cver=%d aver=%d eph=%s len=%d kids=%d ctime=mtime:%d",
             (long long)rel(s->czxid), (long long)rel(s->mzxid), (long long)rel(s->pzxid), s->version,
             s->cversion, s->aversion, who, s->dataLength, s->numChildren, s->ctime == s->mtime);
    return buf;
}

static zhandle_t *openHandle(const char *host, char *name, int timeout, const clientid_t *id) {
    zhandle_t *zh = zookeeper_init(host, watcher, timeout, id, name, 0);
    if (!zh) fail("zookeeper_init");
    char want[64];
    snprintf(want, sizeof want, "  %s: session ", name);
    if (!waitEvent(want)) fail("no session event within 10 s");
    return zh;
}

static void authDone(int rc, const void *data) {
    pthread_mutex_lock(&mu);
    size_t n = strlen(events);
    snprintf(events + n, sizeof events - n, "  %s: auth %s\n", (const char *)data, zerror(rc));
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void syncDone(int rc, const char *value, const void *data) {
    (void)data;
    pthread_mutex_lock(&mu);
    size_t n = strlen(events);
    snprintf(events + n, sizeof events - n, "  sync %s %s\n", zerror(rc), value ? value : "");
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* The pipeline's completions: each records its index; in order means every
 * index arrived after the one before it. */
static int nextDone, outOfOrder, pipeErr;
static char lastPath[128];

static void pipeDone(int rc, const char *value, const void *data) {
    int i = (int)(intptr_t)data;
    pthread_mutex_lock(&mu);
    if (i != nextDone) outOfOrder++;
    if (rc != ZOK) pipeErr++;
    nextDone = i + 1;
    if (value) snprintf(lastPath, sizeof lastPath, "%s", value);
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void printACL(const char *label, int rc, struct ACL_vector *acl) {
    char buf[512] = "";
    for (int i = 0; rc == ZOK && i < acl->count; i++) {
        size_t n = strlen(buf);
        snprintf(buf + n, sizeof buf - n, " %s:%s:%d", acl->data[i].id.scheme, acl->data[i].id.id, acl->data[i].perms);
    }
    step("%s: %s%s", label, zerror(rc), buf);
}

static int byName(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void children(zhandle_t *zh, const char *path) {
    struct String_vector kids;
    struct Stat st;
    int rc = zoo_get_children2(zh, path, 0, &kids, &st);
    /* the server's order is not part of the protocol: print it sorted */
    if (rc == ZOK) qsort(kids.data, kids.count, sizeof kids.data[0], byName);
    char buf[512] = "";
    for (int i = 0; rc == ZOK && i < kids.count; i++) {
        size_t n = strlen(buf);
        snprintf(buf + n, sizeof buf - n, " %s", kids.data[i]);
    }
    step("children %s: %s%s | %s", path, zerror(rc), buf, rc == ZOK ? statText(&st, zh) : "");
    if (rc == ZOK) deallocate_String_vector(&kids);
}

static void script(const char *host);
static void move(const char *proxy, const char *b);
static void readonly(const char *host);

int main(int argc, char **argv) {
    zoo_set_debug_level(getenv("ZKC_DEBUG") ? ZOO_LOG_LEVEL_DEBUG : ZOO_LOG_LEVEL_ERROR);
    zoo_set_log_stream(stderr);
    if (argc == 2) {
        script(argv[1]);
    } else if (argc == 4 && strcmp(argv[1], "-move") == 0) {
        move(argv[2], argv[3]);
    } else if (argc == 3 && strcmp(argv[1], "-ro") == 0) {
        readonly(argv[2]);
    } else {
        fprintf(stderr, "usage: zkc host:port | zkc -move proxy:port hostB:port | zkc -ro host:port\n");
        return 2;
    }
    step("done");
    return 0;
}

static void basics(zhandle_t *h1, zhandle_t *h2);
static void watches(zhandle_t *h1, zhandle_t *h2);
static void acls(zhandle_t *h1, zhandle_t *h2);
static void multis(zhandle_t *h1);
static void sessions(const char *host, zhandle_t *h1);

static void script(const char *host) {
    zhandle_t *h1 = openHandle(host, "h1", 4000, NULL);
    live[0] = h1;
    step("h1 timeout %d", zoo_recv_timeout(h1));
    zhandle_t *h2 = openHandle(host, "h2", 30000, NULL);
    live[1] = h2;
    step("h2 timeout %d (asked 30000)", zoo_recv_timeout(h2));
    zhandle_t *h3 = openHandle(host, "h3", 100, NULL);
    step("h3 timeout %d (asked 100)", zoo_recv_timeout(h3));
    zookeeper_close(h3);
    basics(h1, h2);
    watches(h1, h2);
    acls(h1, h2);
    multis(h1);
    sessions(host, h1);
    live[0] = live[1] = NULL;
    zookeeper_close(h2);
    zookeeper_close(h1);
}

static void basics(zhandle_t *h1, zhandle_t *h2) {
    char path[256] = "";
    struct Stat st = {0};
    int rc = zoo_create2(h1, "/c", "data", 4, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, path, sizeof path, &st);
    if (rc != ZOK) fail("the first create");
    base = st.czxid;
    step("create2 /c: %s %s | %s", zerror(rc), path, statText(&st, h1));
    rc = zoo_create(h1, "/c", "x", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, path, sizeof path);
    step("create /c again: %s", zerror(rc));
    rc = zoo_create(h1, "/none/x", "x", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, path, sizeof path);
    step("create /none/x: %s", zerror(rc));
    rc = zoo_create(h1, "/c/seq-", "s", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_SEQUENTIAL, path, sizeof path);
    step("create sequential: %s %s", zerror(rc), path);
    rc = zoo_create2(h1, "/c/eph", "e", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, path, sizeof path, &st);
    step("create2 ephemeral: %s %s | %s", zerror(rc), path, statText(&st, h1));
    rc = zoo_create(h1, "/c/eph/kid", "k", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, path, sizeof path);
    step("create under an ephemeral: %s", zerror(rc));
    rc = zoo_create(h1, "/c/es-", NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL_SEQUENTIAL, path, sizeof path);
    step("create ephemeral sequential, null data: %s %s", zerror(rc), path);
    rc = zoo_create(h1, "/c/box", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_CONTAINER, path, sizeof path);
    step("create container: %s %s", zerror(rc), path);
    rc = zoo_create2_ttl(h1, "/c/ttl", "t", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_WITH_TTL, 60000, path, sizeof path, &st);
    step("create2 ttl: %s %s | %s", zerror(rc), path, rc == ZOK ? statText(&st, h1) : "");
    rc = zoo_create_ttl(h1, "/c/ttl0", "t", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_WITH_TTL, 0, path, sizeof path);
    step("create ttl 0: %s", zerror(rc));
    rc = zoo_create_ttl(h1, "/c/ttls-", "t", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL, 5000, path, sizeof path);
    step("create sequential ttl: %s %s", zerror(rc), path);
    char buf[64] = "";
    int len = sizeof buf;
    rc = zoo_get(h2, "/c", 0, buf, &len, &st);
    step("h2 get /c: %s %.*s | %s", zerror(rc), rc != ZOK || len < 0 ? 0 : len, buf, rc == ZOK ? statText(&st, h2) : "");
    rc = zoo_set2(h1, "/c", "v1", 2, 0, &st);
    step("set2 /c version 0: %s | %s", zerror(rc), statText(&st, h1));
    rc = zoo_set(h1, "/c", "v2", 2, 0);
    step("set /c version 0 again: %s", zerror(rc));
    rc = zoo_set2(h1, "/c", NULL, -1, -1, &st);
    step("set2 /c null data: %s | %s", zerror(rc), statText(&st, h1));
    len = sizeof buf;
    rc = zoo_get(h1, "/c", 0, buf, &len, &st);
    step("get /c: %s len=%d", zerror(rc), len);
    rc = zoo_exists(h1, "/c/nope", 0, &st);
    step("exists /c/nope: %s", zerror(rc));
    rc = zoo_delete(h1, "/c", -1);
    step("delete /c (not empty): %s", zerror(rc));
    rc = zoo_delete(h1, "/c/seq-0000000000", 5);
    step("delete with a wrong version: %s", zerror(rc));
    rc = zoo_delete(h1, "/c/seq-0000000000", 0);
    step("delete with its version: %s", zerror(rc));
    rc = zoo_delete(h1, "/c/nope", -1);
    step("delete /c/nope: %s", zerror(rc));
    children(h1, "/c");
    rc = zoo_async(h1, "/c", syncDone, NULL);
    if (rc != ZOK || !waitEvent("  sync ")) fail("sync");
    step("sync sent: %s", zerror(rc));
}

static void watches(zhandle_t *h1, zhandle_t *h2) {
    char buf[64] = "", path[128] = "";
    int len = sizeof buf;
    struct Stat st;
    struct String_vector kids;
    int rc = zoo_wget(h1, "/c", watcher, "data", buf, &len, &st);
    step("wget /c: %s", zerror(rc));
    rc = zoo_wexists(h1, "/c", watcher, "exists", &st);
    step("wexists /c: %s", zerror(rc));
    rc = zoo_wget_children2(h1, "/c", watcher, "kids", &kids, &st);
    step("wget_children2 /c: %s", zerror(rc));
    if (rc == ZOK) deallocate_String_vector(&kids);
    rc = zoo_set(h1, "/c", "w", 1, -1);
    step("h1 set /c: %s", zerror(rc)); /* its own change: the events come first */
    rc = zoo_set(h1, "/c", "w2", 2, -1);
    step("h1 set /c again (watches fired once): %s", zerror(rc));
    rc = zoo_create(h1, "/c/k", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, path, sizeof path);
    step("h1 create /c/k: %s", zerror(rc));
    rc = zoo_wexists(h1, "/w", watcher, "created", &st);
    step("wexists /w: %s", zerror(rc));
    /* another session's change: wait for the event, so that it prints
     * before the line of the call that caused it, whenever it arrives */
    rc = zoo_create(h2, "/w", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, path, sizeof path);
    if (!waitEvent("created /w")) fail("no created event for /w");
    step("h2 create /w: %s", zerror(rc));
    rc = zoo_exists(h1, "/w", 0, &st);
    step("h1 exists /w: %s", zerror(rc));
    rc = zoo_wget_children2(h1, "/w", watcher, "wkids", &kids, &st);
    if (rc == ZOK) deallocate_String_vector(&kids);
    len = sizeof buf;
    rc = zoo_wget(h1, "/w", watcher, "wdata", buf, &len, &st);
    step("watch /w's data and children: %s", zerror(rc));
    rc = zoo_remove_watches(h1, "/w", ZWATCHTYPE_DATA, watcher, "wdata", 0);
    step("remove /w's data watch: %s", zerror(rc));
    rc = zoo_remove_watches(h1, "/w", ZWATCHTYPE_DATA, watcher, "wdata", 0);
    step("remove it again: %s", zerror(rc));
    rc = zoo_remove_all_watches(h1, "/w", ZWATCHTYPE_ANY, 0);
    step("remove all of /w's watches: %s", zerror(rc));
    rc = zoo_remove_all_watches(h1, "/nowatch", ZWATCHTYPE_ANY, 0);
    step("remove all of /nowatch's watches: %s", zerror(rc));
    rc = zoo_wexists(h1, "/w", watcher, "gone", &st);
    rc = zoo_delete(h2, "/w", -1);
    if (!waitEvent("deleted /w")) fail("no deleted event for /w");
    step("h2 delete /w: %s", zerror(rc));
    rc = zoo_exists(h1, "/w", 0, &st);
    step("h1 exists /w: %s", zerror(rc));
}

static void acls(zhandle_t *h1, zhandle_t *h2) {
    char path[128] = "", buf[16] = "";
    struct ACL_vector acl;
    struct Stat st = {0};
    int rc = zoo_add_auth(h1, "digest", "u:p", 3, authDone, "h1");
    if (rc != ZOK || !waitEvent("h1: auth")) fail("add_auth");
    step("add_auth digest u:p: %s", zerror(rc));
    rc = zoo_create(h1, "/a", "s", 1, &ZOO_CREATOR_ALL_ACL, ZOO_PERSISTENT, path, sizeof path);
    step("create /a with the creator's ACL: %s", zerror(rc));
    rc = zoo_get_acl(h1, "/a", &acl, &st);
    printACL("get_acl /a", rc, &acl);
    if (rc == ZOK) deallocate_ACL_vector(&acl);
    int len = sizeof buf;
    rc = zoo_get(h2, "/a", 0, buf, &len, &st);
    step("h2 get /a: %s", zerror(rc));
    rc = zoo_exists(h2, "/a", 0, &st);
    step("h2 exists /a: %s", zerror(rc));
    rc = zoo_set_acl(h1, "/a", 5, &ZOO_READ_ACL_UNSAFE);
    step("set_acl with a wrong version: %s", zerror(rc));
    rc = zoo_set_acl(h1, "/a", 0, &ZOO_READ_ACL_UNSAFE);
    step("set_acl world read: %s", zerror(rc));
    rc = zoo_get_acl(h2, "/a", &acl, &st);
    printACL("h2 get_acl /a", rc, &acl);
    if (rc == ZOK) deallocate_ACL_vector(&acl);
    rc = zoo_set(h2, "/a", "x", 1, -1);
    step("h2 set /a: %s", zerror(rc));
    struct ACL_vector empty = {0, NULL};
    rc = zoo_create(h1, "/bad", "", 0, &empty, ZOO_PERSISTENT, path, sizeof path);
    step("create with no ACL: %s", zerror(rc));
    struct ACL bad[] = {{ZOO_PERM_ALL, {"nosuch", "x"}}, {ZOO_PERM_ALL, {"digest", "nocolon"}},
                        {ZOO_PERM_ALL, {"ip", "300.1.2.3"}}, {ZOO_PERM_ALL, {"ip", "10.0.0.0/99"}},
                        {ZOO_PERM_ALL, {"world", "someone"}}, {ZOO_PERM_ALL, {"auth", ""}}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ACL_vector one = {1, &bad[i]};
        rc = zoo_create(h2, "/bad", "", 0, &one, ZOO_PERSISTENT, path, sizeof path);
        step("h2 create with ACL %s:%s: %s", bad[i].id.scheme, bad[i].id.id, zerror(rc));
    }
    struct ACL ip = {ZOO_PERM_READ | ZOO_PERM_WRITE, {"ip", "127.0.0.0/8"}};
    struct ACL_vector ips = {1, &ip};
    rc = zoo_create(h2, "/ip", "", 0, &ips, ZOO_PERSISTENT, path, sizeof path);
    step("h2 create /ip for 127.0.0.0/8: %s", zerror(rc));
    rc = zoo_set(h2, "/ip", "y", 1, -1);
    step("h2 set /ip: %s", zerror(rc));
    rc = zoo_delete(h2, "/ip", -1);
    step("h2 delete /ip (the root allows it): %s", zerror(rc));
    rc = zoo_add_auth(h2, "digest", "u:wrong", 7, authDone, "h2");
    if (rc != ZOK || !waitEvent("h2: auth")) fail("add_auth h2");
    rc = zoo_set(h2, "/a", "x", 1, -1);
    step("h2 set /a with other credentials: %s", zerror(rc));
}

static void multis(zhandle_t *h1) {
    char p0[64] = "", p1[64] = "";
    struct Stat st = {0};
    zoo_op_t ops[4];
    zoo_op_result_t res[4];
    zoo_create_op_init(&ops[0], "/m", "m", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, p0, sizeof p0);
    zoo_create_op_init(&ops[1], "/m/s-", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_SEQUENTIAL, p1, sizeof p1);
    zoo_set_op_init(&ops[2], "/m", "m2", 2, 0, &st);
    zoo_check_op_init(&ops[3], "/m", 1);
    int rc = zoo_multi(h1, 4, ops, res);
    step("multi create, create sequential, set, check: %s [%s %s %s %s] %s %s | %s", zerror(rc), zerror(res[0].err),
         zerror(res[1].err), zerror(res[2].err), zerror(res[3].err), p0, p1, statText(&st, h1));
    zoo_set_op_init(&ops[0], "/m", "m3", 2, -1, &st);
    zoo_check_op_init(&ops[1], "/m", 7);
    zoo_delete_op_init(&ops[2], "/m/nope", -1);
    rc = zoo_multi(h1, 3, ops, res);
    step("multi set, failing check, delete: %s [%s %s %s]", zerror(rc), zerror(res[0].err), zerror(res[1].err),
         zerror(res[2].err));
    char buf[8] = "";
    int len = sizeof buf;
    rc = zoo_get(h1, "/m", 0, buf, &len, &st);
    step("get /m: %s %.*s", zerror(rc), rc != ZOK || len < 0 ? 0 : len, buf);
    zoo_create_op_init(&ops[0], "/m/e", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, p0, sizeof p0);
    zoo_create_op_init(&ops[1], "/m/e/x", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, p1, sizeof p1);
    rc = zoo_multi(h1, 2, ops, res);
    step("multi create under its own ephemeral: %s [%s %s]", zerror(rc), zerror(res[0].err), zerror(res[1].err));
    rc = zoo_multi(h1, 0, ops, res);
    step("empty multi: %s", zerror(rc));
    /* 200 creates in flight at once: the replies come in the order sent */
    for (int i = 0; i < 200; i++) {
        if (zoo_acreate(h1, "/m/p-", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_SEQUENTIAL, pipeDone, (void *)(intptr_t)i) != ZOK)
            fail("acreate");
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&mu);
    while (nextDone < 200 && pthread_cond_timedwait(&cv, &mu, &until) != ETIMEDOUT) {
    }
    int done = nextDone, bad = outOfOrder, errs = pipeErr;
    pthread_mutex_unlock(&mu);
    step("200 acreates in flight: %d answered, %d out of order, %d failed, last %s", done, bad, errs, lastPath);
}

static void sessions(const char *host, zhandle_t *h1) {
    clientid_t wrong = *zoo_client_id(h1);
    wrong.passwd[0] ^= 1;
    zhandle_t *h4 = zookeeper_init(host, watcher, 4000, &wrong, "h4", 0);
    if (!h4 || !waitEvent("h4: session")) fail("h4");
    /* ZooKeeper closes the session's connection (h1's) before it checks
     * the password, and h1 reconnects; when h1 comes back before h4 has
     * its answer, its connect closes h4's, which tries again and closes
     * h1's again. How often each side loses its connection is a race, on
     * ZooKeeper as on zk: only the outcome is printed. */
    live[0] = NULL;
    zookeeper_close(h4);
    settle(h1, "h1: session");
    live[0] = h1;
    step("h4 with h1's id and a wrong password: expired; h1 %s", stateName(zoo_state(h1)));
    zhandle_t *h5 = zookeeper_init(host, watcher, 4000, NULL, "h5", ZOO_READONLY);
    if (!h5 || !waitEvent("h5: session")) fail("h5");
    step("h5 allowing read-only: state %s", stateName(zoo_state(h5)));
    zookeeper_close(h5);
    char buf[512] = "";
    int len = sizeof buf;
    struct Stat st = {0};
    int rc = zoo_getconfig(h1, 0, buf, &len, &st);
    step("getconfig: %s len=%d", zerror(rc), len);
    len = sizeof buf;
    rc = zoo_reconfig(h1, "server.9=127.0.0.1:1:2;3", NULL, NULL, -1, buf, &len, &st);
    step("reconfig: %s", zerror(rc));
    /* a request over jute.maxbuffer: the server closes the connection and
     * the client reconnects to the same session */
    int big = 2 << 20;
    char *data = calloc(big, 1);
    rc = zoo_set(h1, "/m", data, big, -1);
    free(data);
    if (!waitEvent("h1: session connected")) fail("h1 did not reconnect");
    step("set 2 MiB: %s", zerror(rc));
    rc = zoo_exists(h1, "/c/eph", 0, &st);
    step("after the reconnect, exists /c/eph: %s | %s", zerror(rc), rc == ZOK ? statText(&st, h1) : "");
}

/* ask has the test act between steps: it prints "@what" and waits for the
 * test's line on stdin. */
static void ask(const char *what) {
    char line[64];
    printf("@%s\n", what);
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin)) fail("no answer from the test");
}

static void move(const char *proxy, const char *b) {
    char path[128] = "", buf[16] = "";
    struct Stat st = {0};
    struct String_vector kids;
    zhandle_t *h1 = openHandle(proxy, "h1", 4000, NULL);
    zhandle_t *h2 = openHandle(b, "h2", 4000, NULL);
    live[0] = h1;
    live[1] = h2;
    int rc = zoo_create2(h1, "/mv", "d", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, path, sizeof path, &st);
    if (rc != ZOK) fail("the first create");
    base = st.czxid;
    step("h1 create2 /mv: %s | %s", zerror(rc), statText(&st, h1));
    rc = zoo_create(h1, "/mv/gone", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, path, sizeof path);
    step("h1 create /mv/gone: %s", zerror(rc));
    rc = zoo_create(h1, "/mv/eph", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, path, sizeof path);
    step("h1 create /mv/eph: %s", zerror(rc));
    int len = sizeof buf;
    rc = zoo_wget(h1, "/mv", watcher, "data", buf, &len, &st);
    step("h1 wget /mv: %s", zerror(rc));
    rc = zoo_wget_children2(h1, "/mv", watcher, "kids", &kids, &st);
    if (rc == ZOK) deallocate_String_vector(&kids);
    step("h1 wget_children2 /mv: %s", zerror(rc));
    rc = zoo_wexists(h1, "/mv/new", watcher, "new", &st);
    step("h1 wexists /mv/new: %s", zerror(rc));
    rc = zoo_wexists(h1, "/mv/gone", watcher, "gone", &st);
    step("h1 wexists /mv/gone: %s", zerror(rc));
    rc = zoo_wexists(h1, "/mv/still", watcher, "still", &st);
    step("h1 wexists /mv/still: %s", zerror(rc));
    /* h1 loses its server: the test's proxy closes the connection and
     * refuses new ones */
    live[0] = NULL;
    ask("cut");
    /* the client tells each of h1's six watchers, one after another */
    if (!waitEvents("h1: session connecting", 6)) fail("h1 did not lose its server");
    step("h1 is away");
    rc = zoo_set(h2, "/mv", "d2", 2, -1);
    step("h2 set /mv: %s", zerror(rc));
    rc = zoo_create(h2, "/mv/new", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, path, sizeof path);
    step("h2 create /mv/new: %s", zerror(rc));
    rc = zoo_delete(h2, "/mv/gone", -1);
    step("h2 delete /mv/gone: %s", zerror(rc));
    /* the proxy now leads to B: h1 comes back there and sets its watches
     * again from the zxid it saw, and B fires the ones it missed */
    ask("to-b");
    if (!waitEvents("h1: session connected", 6)) fail("h1 did not reach B");
    live[0] = h1;
    step("h1 is back, on B");
    rc = zoo_exists(h1, "/mv/eph", 0, &st);
    step("h1 exists /mv/eph on B: %s | %s", zerror(rc), rc == ZOK ? statText(&st, h1) : "");
    len = sizeof buf;
    rc = zoo_get(h1, "/mv", 0, buf, &len, &st);
    step("h1 get /mv on B: %s %.*s | %s", zerror(rc), rc != ZOK || len < 0 ? 0 : len, buf, rc == ZOK ? statText(&st, h1) : "");
    children(h1, "/mv");
    rc = zoo_create(h2, "/mv/still", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, path, sizeof path);
    if (!waitEvent("created /mv/still")) fail("no created event for /mv/still");
    step("h2 create /mv/still: %s", zerror(rc));
    live[0] = live[1] = NULL;
    zookeeper_close(h2);
    zookeeper_close(h1);
}

static void readonly(const char *host) {
    char path[128] = "", buf[16] = "";
    struct Stat st = {0};
    zhandle_t *h1 = zookeeper_init(host, watcher, 4000, NULL, "h1", ZOO_READONLY);
    if (!h1 || !waitEvent("h1: session")) fail("h1");
    live[0] = h1;
    step("h1 allowing read-only: state %s", stateName(zoo_state(h1)));
    int len = sizeof buf;
    int rc = zoo_get(h1, "/ro", 0, buf, &len, &st);
    if (rc == ZOK) base = st.czxid;
    step("get /ro: %s %.*s | %s", zerror(rc), rc != ZOK || len < 0 ? 0 : len, buf, rc == ZOK ? statText(&st, h1) : "");
    rc = zoo_wexists(h1, "/ro", watcher, "ro", &st);
    step("wexists /ro: %s", zerror(rc));
    children(h1, "/");
    rc = zoo_create(h1, "/x", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, path, sizeof path);
    step("create /x: %s", zerror(rc));
    rc = zoo_create(h1, "/x", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, path, sizeof path);
    step("create ephemeral /x: %s", zerror(rc));
    rc = zoo_set(h1, "/ro", "w", 1, -1);
    step("set /ro: %s", zerror(rc));
    rc = zoo_delete(h1, "/ro", -1);
    step("delete /ro: %s", zerror(rc));
    rc = zoo_set_acl(h1, "/ro", -1, &ZOO_OPEN_ACL_UNSAFE);
    step("set_acl /ro: %s", zerror(rc));
    /* No multi: a server in read-only mode refuses it with a bare
     * NOTREADONLY header, as ZooKeeper's ReadOnlyRequestProcessor does,
     * and the C client 3.8 then reads a multi response from the empty
     * body and fails an assertion (deserialize_multi). */
    rc = zoo_async(h1, "/ro", syncDone, NULL);
    if (rc != ZOK || !waitEvent("  sync ")) fail("sync");
    step("sync sent: %s", zerror(rc));
    rc = zoo_add_auth(h1, "digest", "u:p", 3, authDone, "h1");
    if (rc != ZOK || !waitEvent("h1: auth")) fail("add_auth");
    step("add_auth: %s", zerror(rc));
    len = sizeof buf;
    rc = zoo_get(h1, "/ro", 0, buf, &len, &st);
    step("get /ro again: %s %.*s", zerror(rc), rc != ZOK || len < 0 ? 0 : len, buf);
    /* a session that does not allow read-only mode is refused: its client
     * keeps trying */
    zhandle_t *h2 = zookeeper_init(host, watcher, 4000, NULL, "h2", 0);
    if (!h2) fail("h2");
    int connected = 0;
    for (int i = 0; i < 200 && !connected; i++) {
        struct timespec ms = {0, 10 * 1000 * 1000};
        nanosleep(&ms, NULL);
        connected = zoo_state(h2) == ZOO_CONNECTED_STATE || zoo_state(h2) == ZOO_READONLY_STATE;
    }
    dropEvents("h2: session connecting");
    step("h2 not allowing read-only, after 2 s: %s", connected ? "let in" : "not let in");
    live[0] = NULL;
    zookeeper_close(h2);
    zookeeper_close(h1);
}
