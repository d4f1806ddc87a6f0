/*
 * The client-interface adapter, compiled by ffi-shim/build.rs only when SIEBEL_SCAPI_H names
 * Oracle's scapi.h (never against include/scapi.h).
 *
 * Siebel passes ISC_CLIENT_INTERFACE to RequestService by value, in the member order of
 * Oracle's header, which is not public: include/scapi.h infers it. This file is compiled against
 * Oracle's header and copies each member BY NAME into the driver's own layout (struct
 * siebel_cti_client below, the same as ISC_CLIENT_INTERFACE in scapi-types/src/lib.rs), so the
 * member order comes from Oracle's header. The compiler checks the rest:
 *   - a member missing from Oracle's struct (or named differently) fails the build here;
 *   - a callback whose parameter list differs from ours is an incompatible pointer assignment
 *     (an error: build.rs passes -Werror=incompatible-pointer-types);
 *   - the static assertions below check the sizes the driver relies on, including the size
 *     of the struct itself (it is passed by value, so its size decides where the arguments
 *     after it are).
 */
#include <stddef.h>
#include <time.h>

#include SIEBEL_SCAPI_H_PATH

#define SC_CHECK(cond, what) typedef char siebel_cti_check_##what[(cond) ? 1 : -1]
#if defined(_MSC_VER) && !defined(__clang__)
#define SC_ALIGNOF __alignof
#else
#define SC_ALIGNOF _Alignof
#endif

/* The driver's layout: clientHandle, then the callbacks in alphabetical order. */
struct siebel_cti_client {
    ISC_CLIENT_HANDLE clientHandle;
    ISC_RESULT (*BeginBatch)(ISC_CLIENT_HANDLE);
    ISC_RESULT (*CacheCommandInformation)(ISC_CLIENT_HANDLE, const struct ISC_StrParamList *,
                                          const struct ISC_StrParamList *,
                                          const struct ISC_LongParamList *);
    ISC_RESULT (*CleanAllWorkItem)(ISC_CLIENT_HANDLE);
    ISC_RESULT (*EndBatch)(ISC_CLIENT_HANDLE);
    ISC_RESULT (*HandleError)(ISC_CLIENT_HANDLE, const ISC_STRING, const ISC_STRING);
    ISC_RESULT (*HandleEvent)(ISC_CLIENT_HANDLE, const ISC_STRING, const struct ISC_KVParamList *,
                              ISC_BOOLEAN, const ISC_STRING);
    ISC_RESULT (*IndicateNewWorkItem)(ISC_CLIENT_HANDLE, const ISC_STRING, const ISC_STRING,
                                      const ISC_STRING, enum SCWorkItemMode);
    ISC_RESULT (*ShowStatusText)(ISC_CLIENT_HANDLE, const ISC_STRING);
    ISC_RESULT (*UpdateObjectInformation)(ISC_CLIENT_HANDLE, const ISC_STRING, const ISC_STRING,
                                          const struct ISC_KVParamList *);
    ISC_RESULT (*WorkItemReleased)(ISC_CLIENT_HANDLE, const ISC_STRING, time_t);
    ISC_RESULT (*WorkItemResumed)(ISC_CLIENT_HANDLE, const ISC_STRING);
    ISC_RESULT (*WorkItemStarted)(ISC_CLIENT_HANDLE, const ISC_STRING, const ISC_STRING,
                                  const ISC_STRING, const ISC_STRING, time_t);
    ISC_RESULT (*WorkItemSuspended)(ISC_CLIENT_HANDLE, const ISC_STRING);
};

/* What the Rust side (scapi-types) assumes of Oracle's types. */
SC_CHECK(sizeof(ISC_CHAR) == 2, ISC_CHAR_is_2_bytes);
SC_CHECK(sizeof(ISC_RESULT) == sizeof(long), ISC_RESULT_is_a_long);
SC_CHECK(sizeof(ISC_BOOLEAN) == sizeof(int), ISC_BOOLEAN_is_an_int);
SC_CHECK(sizeof(ISC_CLIENT_HANDLE) == sizeof(void *), ISC_CLIENT_HANDLE_is_a_pointer);
SC_CHECK(sizeof(enum SCWorkItemMode) == sizeof(int), SCWorkItemMode_is_an_int);
SC_CHECK(sizeof(struct ISC_KeyValue) == 2 * sizeof(void *)
             && offsetof(struct ISC_KeyValue, paramValue) == sizeof(void *),
         ISC_KeyValue_layout);
SC_CHECK(offsetof(struct ISC_KVParamList, len) == 0 && sizeof(((struct ISC_KVParamList *)0)->len)
             == sizeof(long) && offsetof(struct ISC_KVParamList, dataItems) == sizeof(void *),
         ISC_KVParamList_layout);
SC_CHECK(offsetof(struct ISC_StrParamList, len) == 0 && sizeof(((struct ISC_StrParamList *)0)->len)
             == sizeof(long) && offsetof(struct ISC_StrParamList, dataItems) == sizeof(void *),
         ISC_StrParamList_layout);
SC_CHECK(offsetof(struct ISC_LongParamList, len) == 0
             && sizeof(((struct ISC_LongParamList *)0)->len) == sizeof(long)
             && sizeof(*((struct ISC_LongParamList *)0)->dataItems) == sizeof(long),
         ISC_LongParamList_layout);
SC_CHECK(SCAPI_VERSION == 2, SCAPI_VERSION_is_2_as_in_include_scapi_h);
/* Passed by value: the same size and alignment as the driver's layout, or the arguments of
 * RequestService after it would be read from the wrong place. */
SC_CHECK(sizeof(struct ISC_CLIENT_INTERFACE) == sizeof(struct siebel_cti_client),
         ISC_CLIENT_INTERFACE_has_the_size_of_the_driver_layout);
SC_CHECK(SC_ALIGNOF(struct ISC_CLIENT_INTERFACE) == SC_ALIGNOF(struct siebel_cti_client),
         ISC_CLIENT_INTERFACE_has_the_alignment_of_the_driver_layout);
SC_CHECK(sizeof(struct siebel_cti_client) == 14 * sizeof(void *), driver_layout_is_14_pointers);

/* Copies Oracle's struct (as RequestService received it) into the driver's layout by name. */
void siebel_cti_client_from_oracle(const void *oracle, struct siebel_cti_client *ours) {
    const struct ISC_CLIENT_INTERFACE *in = (const struct ISC_CLIENT_INTERFACE *)oracle;
    ours->clientHandle = in->clientHandle;
    ours->BeginBatch = in->BeginBatch;
    ours->CacheCommandInformation = in->CacheCommandInformation;
    ours->CleanAllWorkItem = in->CleanAllWorkItem;
    ours->EndBatch = in->EndBatch;
    ours->HandleError = in->HandleError;
    ours->HandleEvent = in->HandleEvent;
    ours->IndicateNewWorkItem = in->IndicateNewWorkItem;
    ours->ShowStatusText = in->ShowStatusText;
    ours->UpdateObjectInformation = in->UpdateObjectInformation;
    ours->WorkItemReleased = in->WorkItemReleased;
    ours->WorkItemResumed = in->WorkItemResumed;
    ours->WorkItemStarted = in->WorkItemStarted;
    ours->WorkItemSuspended = in->WorkItemSuspended;
}
