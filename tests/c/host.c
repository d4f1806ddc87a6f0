/*
 * A minimal C host for the Siebel CTI driver, built against include/scapi.h (or another
 * header with the same names: tests/c/shuffled/scapi.h), on Linux by gcc and on Windows by
 * mingw (scripts/windows.sh). It does what Siebel's channel manager does: load the library,
 * check the API version, create a driver instance, list commands and events, create an agent
 * session with a client interface, invoke LogIn and LogOut, receive the callbacks (each must
 * carry the client handle it was given), and release everything.
 *
 * usage: host LIBRARY BROKER_PORT REQUEST_QUEUE CLIENT_ID [Driver:NAME=VALUE...]
 * (the extra parameters: broker credentials, TLS CA file, secure-password key file...)
 * exit 0 and "C host: OK" when the agent logged in and out through the broker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scapi.h"

#ifdef _WIN32
#include <windows.h>
typedef HMODULE library;
static CRITICAL_SECTION lock;
#define LOCK_INIT() InitializeCriticalSection(&lock)
#define LOCK() EnterCriticalSection(&lock)
#define UNLOCK() LeaveCriticalSection(&lock)
#define SLEEP_50MS() Sleep(50)
#define LIB_OPEN(path) LoadLibraryA(path)
#define LIB_ERROR() win_error()
#define LIB_SYM(lib, var, name) (*(FARPROC *)&(var) = GetProcAddress((lib), (name)))
#define LIB_CLOSE(lib) FreeLibrary(lib)
static const char *win_error(void) {
    static char buf[64];
    snprintf(buf, sizeof buf, "LoadLibrary failed, error %lu", (unsigned long)GetLastError());
    return buf;
}
#else
#include <dlfcn.h>
#include <pthread.h>
typedef void *library;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
#define LOCK_INIT() ((void)0)
#define LOCK() pthread_mutex_lock(&lock)
#define UNLOCK() pthread_mutex_unlock(&lock)
#define SLEEP_50MS() do { struct timespec ts = {0, 50 * 1000 * 1000}; nanosleep(&ts, NULL); } while (0)
#define LIB_OPEN(path) dlopen((path), RTLD_NOW | RTLD_LOCAL)
#define LIB_ERROR() dlerror()
#define LIB_SYM(lib, var, name) (*(void **)&(var) = dlsym((lib), (name)))
#define LIB_CLOSE(lib) dlclose(lib)
#endif

typedef long (*api_version_fn)(void);
typedef ISC_RESULT (*create_fn)(const ISC_STRING, const ISC_STRING, const ISC_STRING,
                                const struct ISC_KVParamList *, ISC_DRIVER_HANDLE *);
typedef ISC_RESULT (*list_fn)(const ISC_STRING, struct ISC_StrParamList *, struct ISC_StrParamList *);
typedef void (*free_fn)(struct ISC_StrParamList);
typedef ISC_RESULT (*request_service_fn)(ISC_DRIVER_HANDLE, const struct ISC_CLIENT_INTERFACE,
                                         const ISC_STRING, const struct ISC_KVParamList *,
                                         ISC_SERVICE_HANDLE *);
typedef ISC_RESULT (*invoke_fn)(ISC_SERVICE_HANDLE, const ISC_STRING, const ISC_STRING,
                                const ISC_STRING, const struct ISC_KVParamList *);
typedef ISC_RESULT (*release_fn)(void *);

/* Extra Driver: parameters the command line may give. */
#define MAX_EXTRA 12

static int logged_in, logged_out, toolbars, statuses, errors;
/* The client handle given in the interface, and callbacks that received another one. */
static ISC_CLIENT_HANDLE expected_handle;
static int wrong_handles;

static void check_handle(ISC_CLIENT_HANDLE h) {
    if (h != expected_handle) wrong_handles++;
}

/* ASCII -> UTF-16, malloc'ed. */
static ISC_STRING w(const char *s) {
    size_t n = strlen(s), i;
    ISC_CHAR *out = malloc((n + 1) * sizeof(ISC_CHAR));
    for (i = 0; i < n; i++) out[i] = (ISC_CHAR)(unsigned char)s[i];
    out[n] = 0;
    return out;
}

/* Strings handed to the driver, freed at the end (the driver keeps none past a call). */
static ISC_STRING strings[64];
static int ns;
static ISC_STRING S(const char *s) {
    if (ns == 64) { fprintf(stderr, "C host: too many strings\n"); exit(1); }
    return strings[ns++] = w(s);
}

/* UTF-16 -> ASCII ('?' for the rest) into buf. */
static const char *a(const ISC_STRING s, char *buf, size_t size) {
    size_t i = 0;
    if (s) for (; s[i] && i + 1 < size; i++) buf[i] = s[i] < 128 ? (char)s[i] : '?';
    buf[i] = 0;
    return buf;
}

static ISC_RESULT on_event(ISC_CLIENT_HANDLE h, const ISC_STRING name,
                           const struct ISC_KVParamList *fields, ISC_BOOLEAN notify,
                           const ISC_STRING tracking) {
    char n[128], k[128], v[256];
    long i;
    (void)notify; (void)tracking;
    a(name, n, sizeof n);
    printf("HandleEvent %s", n);
    for (i = 0; fields && i < fields->len; i++)
        printf(" %s=%s", a(fields->dataItems[i].paramName, k, sizeof k),
               a(fields->dataItems[i].paramValue, v, sizeof v));
    printf("\n");
    fflush(stdout);
    LOCK();
    check_handle(h);
    if (strcmp(n, "EventAgentLogin") == 0) logged_in++;
    if (strcmp(n, "EventAgentLogout") == 0) logged_out++;
    UNLOCK();
    return SC_EC_OK;
}

static ISC_RESULT on_status(ISC_CLIENT_HANDLE h, const ISC_STRING text) {
    char t[512];
    printf("ShowStatusText %s\n", a(text, t, sizeof t));
    fflush(stdout);
    LOCK();
    check_handle(h);
    statuses++;
    UNLOCK();
    return SC_EC_OK;
}

static ISC_RESULT on_error(ISC_CLIENT_HANDLE h, const ISC_STRING track, const ISC_STRING text) {
    char t[512], k[64];
    printf("HandleError [%s] %s\n", a(track, k, sizeof k), a(text, t, sizeof t));
    fflush(stdout);
    LOCK();
    check_handle(h);
    errors++;
    UNLOCK();
    return SC_EC_OK;
}

static ISC_RESULT on_toolbar(ISC_CLIENT_HANDLE h, const struct ISC_StrParamList *names,
                             const struct ISC_StrParamList *descriptions,
                             const struct ISC_LongParamList *statuses_) {
    char n[64];
    long i;
    (void)descriptions;
    printf("CacheCommandInformation");
    for (i = 0; i < names->len; i++)
        printf(" %s=%ld", a(names->dataItems[i], n, sizeof n), statuses_->dataItems[i]);
    printf("\n");
    fflush(stdout);
    LOCK();
    check_handle(h);
    toolbars++;
    UNLOCK();
    return SC_EC_OK;
}

static ISC_RESULT on_object(ISC_CLIENT_HANDLE h, const ISC_STRING t, const ISC_STRING m,
                            const struct ISC_KVParamList *info) {
    (void)t; (void)m; (void)info;
    LOCK();
    check_handle(h);
    UNLOCK();
    return SC_EC_OK;
}

static int wait_for(int *counter, int seconds) {
    int i, v = 0;
    for (i = 0; i < seconds * 20; i++) {
        LOCK();
        v = *counter;
        UNLOCK();
        if (v > 0) return 1;
        SLEEP_50MS();
    }
    return 0;
}

#define DIE(...) do { fprintf(stderr, "C host: " __VA_ARGS__); fprintf(stderr, "\n"); exit(1); } while (0)

int main(int argc, char **argv) {
    library lib;
    api_version_fn api_version;
    create_fn create;
    list_fn list;
    free_fn free_list;
    request_service_fn request_service;
    invoke_fn invoke;
    release_fn release_service, release_driver;
    ISC_DRIVER_HANDLE driver = NULL;
    ISC_SERVICE_HANDLE service = NULL;
    struct ISC_StrParamList commands, events;
    struct ISC_CLIENT_INTERFACE client;
    struct ISC_KeyValue dp[4 + MAX_EXTRA], login[3];
    struct ISC_KVParamList dl, ll;
    int i;
    char buf[64];

    if (argc < 5 || argc > 5 + MAX_EXTRA)
        DIE("usage: host LIBRARY BROKER_PORT REQUEST_QUEUE CLIENT_ID [Driver:NAME=VALUE...]");
    LOCK_INIT();
    lib = LIB_OPEN(argv[1]);
    if (!lib) DIE("cannot load %s: %s", argv[1], LIB_ERROR());
    LIB_SYM(lib, api_version, "APIVersion");
    LIB_SYM(lib, create, "CreateISCDriverInstance");
    LIB_SYM(lib, list, "RequestCommandEventList");
    LIB_SYM(lib, free_list, "FreeSCStrParamList");
    LIB_SYM(lib, request_service, "RequestService");
    LIB_SYM(lib, invoke, "InvokeCommand");
    LIB_SYM(lib, release_service, "ReleaseISCServiceInstance");
    LIB_SYM(lib, release_driver, "ReleaseISCDriverInstance");
    if (!api_version || !create || !list || !free_list || !request_service || !invoke ||
        !release_service || !release_driver)
        DIE("missing entry point");
    if (api_version() != SCAPI_VERSION) DIE("API version %ld", api_version());

    dp[0].paramName = S("Driver:BrokerPort");     dp[0].paramValue = S(argv[2]);
    dp[1].paramName = S("Driver:RequestQueue");   dp[1].paramValue = S(argv[3]);
    dp[2].paramName = S("Driver:ClientId");       dp[2].paramValue = S(argv[4]);
    dp[3].paramName = S("Driver:HeartbeatMs");    dp[3].paramValue = S("1000");
    dl.len = 4; dl.dataItems = dp;
    for (i = 5; i < argc; i++) {
        char name[64];
        const char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i] || (size_t)(eq - argv[i]) >= sizeof name)
            DIE("bad parameter %s (expected Driver:NAME=VALUE)", argv[i]);
        memcpy(name, argv[i], (size_t)(eq - argv[i]));
        name[eq - argv[i]] = 0;
        dp[dl.len].paramName = S(name);
        dp[dl.len].paramValue = S(eq + 1);
        dl.len++;
    }
    if (create(S("Voice"), S("ENU"), S(""), &dl, &driver) != SC_EC_OK || !driver)
        DIE("CreateISCDriverInstance failed");
    if (list(S("Voice"), &commands, &events) != SC_EC_OK) DIE("RequestCommandEventList failed");
    printf("commands:");
    for (i = 0; i < commands.len; i++) printf(" %s", a(commands.dataItems[i], buf, sizeof buf));
    printf("\nevents:");
    for (i = 0; i < events.len; i++) printf(" %s", a(events.dataItems[i], buf, sizeof buf));
    printf("\n");
    free_list(commands);
    free_list(events);

    memset(&client, 0, sizeof client);
    expected_handle = client.clientHandle = &expected_handle;
    client.HandleEvent = on_event;
    client.ShowStatusText = on_status;
    client.HandleError = on_error;
    client.CacheCommandInformation = on_toolbar;
    client.UpdateObjectInformation = on_object;
    if (request_service(driver, client, S(""), NULL, &service) != SC_EC_OK || !service)
        DIE("RequestService failed");
    if (!wait_for(&toolbars, 60)) DIE("no CacheCommandInformation");

    login[0].paramName = S("AgentId");   login[0].paramValue = S("1001");
    login[1].paramName = S("Password");  login[1].paramValue = S("secret");
    login[2].paramName = S("Extension"); login[2].paramValue = S("5001");
    ll.len = 3; ll.dataItems = login;
    /* The connector may not have answered Hello yet: retry LogIn until it is accepted. */
    {
        ISC_STRING track = S("c1"), name = S("LogIn"), none = S("");
        for (i = 0; i < 60 && !logged_in; i++) {
            if (invoke(service, track, name, none, &ll) != SC_EC_OK) DIE("InvokeCommand LogIn");
            wait_for(&logged_in, 2);
        }
    }
    if (!logged_in) DIE("no EventAgentLogin");
    if (invoke(service, S("c2"), S("LogOut"), S(""), NULL) != SC_EC_OK) DIE("InvokeCommand LogOut");
    if (!wait_for(&logged_out, 60)) DIE("no EventAgentLogout");

    if (release_service(service) != SC_EC_OK) DIE("ReleaseISCServiceInstance");
    if (release_service(service) != SC_EC_INVALID_HANDLE) DIE("released handle accepted");
    if (release_driver(driver) != SC_EC_OK) DIE("ReleaseISCDriverInstance");
    while (ns > 0) free(strings[--ns]);
    LIB_CLOSE(lib);
    if (wrong_handles) DIE("%d callbacks received another client handle", wrong_handles);
    printf("C host: OK (%d status texts, %d toolbars, %d errors)\n", statuses, toolbars, errors);
    return 0;
}
