/*
 * A minimal C host for the Siebel CTI driver, built by gcc against include/scapi.h.
 * It does what Siebel's channel manager does: dlopen the library, check the API version,
 * create a driver instance, list commands and events, create an agent session with a
 * client interface, invoke LogIn and LogOut, receive the callbacks, and release everything.
 *
 * usage: host LIBRARY BROKER_PORT REQUEST_QUEUE CLIENT_ID
 * exit 0 and "C host: OK" when the agent logged in and out through the broker.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scapi.h"

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

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int logged_in, logged_out, toolbars, statuses, errors;

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
    (void)h; (void)notify; (void)tracking;
    a(name, n, sizeof n);
    printf("HandleEvent %s", n);
    for (i = 0; fields && i < fields->len; i++)
        printf(" %s=%s", a(fields->dataItems[i].paramName, k, sizeof k),
               a(fields->dataItems[i].paramValue, v, sizeof v));
    printf("\n");
    fflush(stdout);
    pthread_mutex_lock(&lock);
    if (strcmp(n, "EventAgentLogin") == 0) logged_in++;
    if (strcmp(n, "EventAgentLogout") == 0) logged_out++;
    pthread_mutex_unlock(&lock);
    return SC_EC_OK;
}

static ISC_RESULT on_status(ISC_CLIENT_HANDLE h, const ISC_STRING text) {
    char t[512];
    (void)h;
    printf("ShowStatusText %s\n", a(text, t, sizeof t));
    fflush(stdout);
    pthread_mutex_lock(&lock);
    statuses++;
    pthread_mutex_unlock(&lock);
    return SC_EC_OK;
}

static ISC_RESULT on_error(ISC_CLIENT_HANDLE h, const ISC_STRING track, const ISC_STRING text) {
    char t[512], k[64];
    (void)h;
    printf("HandleError [%s] %s\n", a(track, k, sizeof k), a(text, t, sizeof t));
    pthread_mutex_lock(&lock);
    errors++;
    pthread_mutex_unlock(&lock);
    return SC_EC_OK;
}

static ISC_RESULT on_toolbar(ISC_CLIENT_HANDLE h, const struct ISC_StrParamList *names,
                             const struct ISC_StrParamList *descriptions,
                             const struct ISC_LongParamList *statuses_) {
    char n[64];
    long i;
    (void)h; (void)descriptions;
    printf("CacheCommandInformation");
    for (i = 0; i < names->len; i++)
        printf(" %s=%ld", a(names->dataItems[i], n, sizeof n), statuses_->dataItems[i]);
    printf("\n");
    pthread_mutex_lock(&lock);
    toolbars++;
    pthread_mutex_unlock(&lock);
    return SC_EC_OK;
}

static ISC_RESULT on_object(ISC_CLIENT_HANDLE h, const ISC_STRING t, const ISC_STRING m,
                            const struct ISC_KVParamList *info) {
    (void)h; (void)t; (void)m; (void)info;
    return SC_EC_OK;
}

static int wait_for(int *counter, int seconds) {
    int i, v = 0;
    for (i = 0; i < seconds * 20; i++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        pthread_mutex_lock(&lock);
        v = *counter;
        pthread_mutex_unlock(&lock);
        if (v > 0) return 1;
        nanosleep(&ts, NULL);
    }
    return 0;
}

#define DIE(...) do { fprintf(stderr, "C host: " __VA_ARGS__); fprintf(stderr, "\n"); exit(1); } while (0)

int main(int argc, char **argv) {
    void *lib;
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
    struct ISC_KeyValue dp[4], login[3];
    struct ISC_KVParamList dl, ll;
    int i;
    char buf[64];

    if (argc != 5) DIE("usage: host LIBRARY BROKER_PORT REQUEST_QUEUE CLIENT_ID");
    lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) DIE("dlopen: %s", dlerror());
    *(void **)&api_version = dlsym(lib, "APIVersion");
    *(void **)&create = dlsym(lib, "CreateISCDriverInstance");
    *(void **)&list = dlsym(lib, "RequestCommandEventList");
    *(void **)&free_list = dlsym(lib, "FreeSCStrParamList");
    *(void **)&request_service = dlsym(lib, "RequestService");
    *(void **)&invoke = dlsym(lib, "InvokeCommand");
    *(void **)&release_service = dlsym(lib, "ReleaseISCServiceInstance");
    *(void **)&release_driver = dlsym(lib, "ReleaseISCDriverInstance");
    if (!api_version || !create || !list || !free_list || !request_service || !invoke ||
        !release_service || !release_driver)
        DIE("missing entry point");
    if (api_version() != SCAPI_VERSION) DIE("API version %ld", api_version());

    dp[0].paramName = S("Driver:BrokerPort");     dp[0].paramValue = S(argv[2]);
    dp[1].paramName = S("Driver:RequestQueue");   dp[1].paramValue = S(argv[3]);
    dp[2].paramName = S("Driver:ClientId");       dp[2].paramValue = S(argv[4]);
    dp[3].paramName = S("Driver:HeartbeatMs");    dp[3].paramValue = S("1000");
    dl.len = 4; dl.dataItems = dp;
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
    client.clientHandle = &client;
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
    dlclose(lib);
    printf("C host: OK (%d status texts, %d toolbars, %d errors)\n", statuses, toolbars, errors);
    return 0;
}
