/*
 * TEST FIXTURE (tests/c/shuffled/scapi.h), not a header to build against: include/scapi.h with
 * the members of ISC_CLIENT_INTERFACE in another order (the client handle last), standing in
 * for Oracle's header, whose real order is unknown. The driver built with
 * SIEBEL_SCAPI_H=tests/c/shuffled/scapi.h must call the C host compiled against this header
 * correctly (tests/e2e/c_host.rs). At the driver's HandleEvent offset this order has
 * BeginBatch, which the host leaves NULL: a driver without the adapter refuses the interface.
 */
/*
 * scapi.h - C declarations for the Siebel Adaptive Communications API (SCAPI)
 *           as exported by this open-source communications driver.
 *
 * Written from scratch in our own words.  Oracle's own scapi.h is not public;
 * every declaration below is reconstructed from Oracle's public "Siebel CTI
 * Administration Guide" (older editions: "Siebel Communications Server
 * Administration Guide"), chapter "Developing a Communications Driver",
 * section "Siebel Adaptive Communications API Reference".  Page titles are
 * cited next to each item.
 *
 * Provenance markers used in this file:
 *   DOCUMENTED  - name, parameter list (order and types) or value appears on
 *                 the Oracle page named in the comment.
 *   INFERRED    - our reconstruction; the comment says why.  Anything that is
 *                 not on an Oracle page (the numeric value of SCAPI_VERSION,
 *                 the underlying type of ISC_BOOLEAN, the member order of
 *                 ISC_CLIENT_INTERFACE, ...) is INFERRED and may need a
 *                 one-line correction once checked against a real Siebel.
 *
 * ABI notes:
 *   - ISC_CHAR is a 2-byte UTF-16 code unit on every platform (Oracle moved
 *     UNIX builds from UCS-4 to UTF-16 in Siebel 7.5: page "Driver Issues for
 *     Version 7.5").  Never use wchar_t: it is 4 bytes on Linux.
 *   - Strings are NUL-terminated (a 0x0000 unit).
 *   - Every service-handle "method" is a plain exported C function whose first
 *     argument is the ISC_SERVICE_HANDLE; every client-handle "method" is a
 *     function pointer in ISC_CLIENT_INTERFACE whose first argument is the
 *     ISC_CLIENT_HANDLE stored in the same struct.
 *   - "const ISC_STRING" (as Oracle writes it) makes the *pointer* const, not
 *     the characters: it is ISC_CHAR *const.  That does not change the ABI.
 *   - Calling convention: the platform's default C convention (cdecl on
 *     32-bit Windows).  INFERRED: Oracle only shows an ISCAPI export macro.
 *
 * Must compile with: gcc -std=c99 -Wall -Wextra -pedantic -fsyntax-only
 */
#ifndef SCAPI_H_INCLUDED
#define SCAPI_H_INCLUDED

#include <stdint.h>   /* uint16_t */
#include <time.h>     /* time_t, used by WorkItemStarted / WorkItemReleased */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Export macro.  Oracle's pages prefix exports with "ISCAPI"; its definition */
/* is not published.  INFERRED: dllexport when building the driver on        */
/* Windows (define SCAPI_BUILDING_DRIVER), dllimport for a Windows host,     */
/* nothing elsewhere (visibility is handled by the Rust cdylib).             */
/* ------------------------------------------------------------------------ */
#if defined(_WIN32)
#  if defined(SCAPI_BUILDING_DRIVER)
#    define SCAPI_EXPORT __declspec(dllexport)
#  else
#    define SCAPI_EXPORT __declspec(dllimport)
#  endif
#else
#  define SCAPI_EXPORT
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                   */
/* ------------------------------------------------------------------------ */
/* The driver's APIVersion() must return the SCAPI_VERSION of the header it  */
/* was built with (DOCUMENTED, page "APIVersion" / "Methods of               */
/* ISC_DRIVER_HANDLE").  Oracle states that Siebel 7.5 and later require     */
/* "version 2" of the API and reject older drivers by version check (page    */
/* "Custom Driver Upgrade Issues").  The numeric value of the macro is not   */
/* published.  INFERRED: 2.  Change here only.                               */
#define SCAPI_VERSION 2L

/* ------------------------------------------------------------------------ */
/* Basic types                                                               */
/* ------------------------------------------------------------------------ */
/* INFERRED: 2-byte UTF-16 unit (Oracle: UTF-16 since 7.5; public driver    */
/* code checks sizeof(wchar_t) == sizeof(ISC_CHAR) on Windows).              */
typedef uint16_t ISC_CHAR;
/* INFERRED from use: pointer to a NUL-terminated ISC_CHAR string.          */
typedef ISC_CHAR *ISC_STRING;
/* DOCUMENTED name ("Methods of ISC_DRIVER_HANDLE": the API result type,    */
/* 0 = success).  INFERRED underlying type: long.  Note: long is 32 bits on */
/* Win64 and 64 bits on Linux x86-64; returned in a register either way.    */
typedef long ISC_RESULT;
/* DOCUMENTED name (HandleEvent.notifyWhenDone,                              */
/* NotifyEventHandlingFinished.result).  INFERRED underlying type: int.     */
/* Robustness rule for implementers: when *sending* pass exactly 0 or 1;    */
/* when *receiving* test only the low byte ((v & 0xFF) != 0), which is       */
/* correct whether Siebel's real type is int or a 1-byte type.              */
typedef int ISC_BOOLEAN;

/* Handles (DOCUMENTED names, page "Handles for Adaptive Communications").  */
/* INFERRED representation: untyped pointers.  Public driver code assigns   */
/* class pointers to them and between ISC_SERVICE_HANDLE and                */
/* ISC_DRIVER_HANDLE without casts, which only compiles if they are void *. */
typedef void *ISC_DRIVER_HANDLE;   /* ours: one per driver/configuration    */
typedef void *ISC_SERVICE_HANDLE;  /* ours: one per agent session           */
typedef void *ISC_CLIENT_HANDLE;   /* Siebel's: passed back in callbacks    */
/* DOCUMENTED name (GetImplementationObject parameters).  INFERRED: void *. */
typedef void *ISC_HANDLE;

/* ------------------------------------------------------------------------ */
/* Parameter lists.  Struct names DOCUMENTED (used in every signature);     */
/* field names and order INFERRED from public driver code                   */
/* (list->len, list->dataItems[i].paramName / .paramValue).                 */
/* ------------------------------------------------------------------------ */
struct ISC_KeyValue {
    ISC_STRING paramName;
    ISC_STRING paramValue;
};
typedef struct ISC_KeyValue ISC_KeyValue;

struct ISC_KVParamList {
    long                 len;        /* number of entries in dataItems       */
    struct ISC_KeyValue *dataItems;
};
typedef struct ISC_KVParamList ISC_KVParamList;

struct ISC_StrParamList {
    long        len;
    ISC_STRING *dataItems;
};
typedef struct ISC_StrParamList ISC_StrParamList;

struct ISC_LongParamList {
    long  len;
    long *dataItems;
};
typedef struct ISC_LongParamList ISC_LongParamList;

/* ------------------------------------------------------------------------ */
/* Constants - page "Constants for Communications Drivers" and its          */
/* sub-pages.  All names and values below are DOCUMENTED unless marked.     */
/* Oracle asks drivers to use the names, not the numbers.                   */
/* ------------------------------------------------------------------------ */

/* SCCommandFlag (page "SCCommandFlag"): run-time status bits of a command, */
/* reported through CacheCommandInformation.commandStatuses.  A command is  */
/* treated as enabled when neither NOTSUPPORTED nor DISABLED is set.        */
enum SCCommandFlag {
    SC_CF_NOTSUPPORTED = 1,   /* driver does not support the command        */
    SC_CF_DISABLED     = 2,   /* supported but not available right now      */
    SC_CF_CHECKED      = 4,   /* toggle shown pressed (e.g. Not Ready on)   */
    SC_CF_BLINKING     = 8,   /* toolbar button blinks (e.g. Accept)        */
    SC_CF_NOPARAMSOK   = 16,  /* may be invoked with no parameters          */
    SC_CF_STRPARAMSOK  = 32   /* may be invoked with one unnamed string     */
                              /* (the toolbar edit box, e.g. a number)      */
};

/* SCCommandTypeEx (page "SCCommandTypeEx"): command type for              */
/* InvokeCommandEx, which carries predefined parameters for that type.     */
enum SCCommandTypeEx {
    SC_CT_MAKECALL    = 1,    /* place a phone call                         */
    SC_CT_SENDMESSAGE = 2     /* send an email message                      */
};

/* SCErrorCode (page "SCErrorCode"): 0..1000 are reserved by Oracle;        */
/* driver-specific codes start at SC_EC_DRIVER_SPECIFIC.                    */
enum SCErrorCode {
    SC_EC_OK                       = 0,
    SC_EC_ERROR                    = 1,
    SC_EC_CMD_NOT_SUPPORTED        = 2,
    SC_EC_MEDIA_TYPE_NOT_SUPPORTED = 3,   /* channel type string unknown    */
    SC_EC_INVALID_HANDLE           = 4,
    SC_EC_OUT_OF_MEMORY            = 5,
    SC_EC_NETWORK_ERROR            = 6,
    SC_EC_LIB_LOAD_ERR             = 7,
    SC_EC_FUNC_NOT_RESOLVED        = 8,
    SC_EC_DRIVER_CREATION_ERR      = 9,
    SC_EC_DRIVER_RELEASE_ERR       = 10,
    SC_EC_SERVICE_CREATION_ERR     = 11,
    SC_EC_SERVICE_RELEASE_ERR      = 12,
    SC_EC_INVALID_ITEM_TRACKING_ID = 13,
    SC_EC_CLIENT_INTERFACE_ERR     = 14,
    SC_EC_SENDMSG_FAILED_RETRY     = 15,
    SC_EC_IMPOBJ_CREATE_ERR        = 16,
    SC_EC_INVALID_LICENSE          = 17,
    SC_EC_WORK_ITEM_WRONG_STATE    = 18,
    SC_EC_DRIVER_SPECIFIC          = 1000
};

/* SCObjectProperty (page "SCObjectProperty"): properties of a monitored    */
/* object (agent or DN) sent with UpdateObjectInformation.  The values are  */
/* not contiguous; 3, 6, 8, 10, 11 are unused in the published list.        */
/* INFERRED (public driver code): in datasetInfo each key (paramName) is    */
/* the property number written as a decimal string, e.g. "4", and Boolean   */
/* values are "TRUE" / "FALSE".                                             */
enum SCObjectProperty {
    SC_OP_ONOFF       = 1,    /* Boolean: teleset control on/off            */
    SC_OP_AGENTID     = 2,    /* agent ID of the monitored agent/DN         */
    SC_OP_ISNOTREADY  = 4,    /* Boolean: agent is in Not Ready             */
    SC_OP_ISBUSY      = 5,    /* Boolean: agent is Busy                     */
    SC_OP_DESCRIPTION = 7,    /* text describing the monitored object       */
    SC_OP_TIMEINQUEUE = 9,    /* seconds the call waited in the ACD queue   */
    SC_OP_QUEUEID     = 12,   /* ACD queue name, used with SC_OP_ISLOGON    */
    SC_OP_ISLOGON     = 13    /* agent logged on / off (for that queue)     */
};

/* SCWorkItemMode (page "SCWorkItemMode"): direction of a work item,        */
/* passed to IndicateNewWorkItem.                                           */
enum SCWorkItemMode {
    SC_WM_INBOUND  = 1,
    SC_WM_OUTBOUND = 2        /* initiated by the user                      */
};

/* No SC_OT_* (object type) constants exist in Oracle's documentation: the  */
/* object of UpdateObjectInformation is identified by its mediaTargetAddr   */
/* (and trackingID), not by a type code.                                    */

/* ------------------------------------------------------------------------ */
/* ISC_CLIENT_INTERFACE - Siebel's callbacks, handed to RequestService by   */
/* value.  Each callback's parameter list is DOCUMENTED on its own page     */
/* under "Methods of ISC_CLIENT_HANDLE" (page titles = method names).  All  */
/* return ISC_RESULT, 0 on success.                                         */
/*                                                                          */
/* INFERRED: the struct itself.  Oracle names the type (RequestService) but */
/* never shows its members.  We assume one ISC_CLIENT_HANDLE member plus    */
/* one function pointer per documented client method, handle first.        */
/* INFERRED member order: the order of Oracle's method list.  CAUTION: that */
/* list is alphabetical in every edition we found, so it is an editorial    */
/* order and carries no evidence about the real layout.  A plausible        */
/* alternative (functional/historical order) is:                            */
/*   BeginBatch, EndBatch, HandleEvent, ShowStatusText, HandleError,        */
/*   CacheCommandInformation, UpdateObjectInformation, IndicateNewWorkItem, */
/*   WorkItemStarted, WorkItemReleased, CleanAllWorkItem,                   */
/*   WorkItemSuspended, WorkItemResumed.                                    */
/* This struct is the single place to correct the layout.                   */
/* Member name CleanAllWorkItem (singular) is Oracle's spelling.            */
/* ------------------------------------------------------------------------ */
struct ISC_CLIENT_INTERFACE {
    /* page "WorkItemSuspended": the work item was suspended (e.g. hold).   */
    ISC_RESULT (*WorkItemSuspended)(
        ISC_CLIENT_HANDLE  handle,
        const ISC_STRING   trackingID);

    /* page "WorkItemResumed": the work item was resumed (e.g. off hold).   */
    ISC_RESULT (*WorkItemResumed)(
        ISC_CLIENT_HANDLE  handle,
        const ISC_STRING   trackingID);

    /* page "HandleEvent": deliver a named device event with its fields.    */
    /* If notifyWhenDone is true, Siebel later calls                        */
    /* NotifyEventHandlingFinished(service, trackingID, result).            */
    ISC_RESULT (*HandleEvent)(
        ISC_CLIENT_HANDLE              handle,
        const ISC_STRING               name,
        const struct ISC_KVParamList  *fields,
        ISC_BOOLEAN                    notifyWhenDone,
        const ISC_STRING               trackingID);

    /* page "ShowStatusText": text for the client's status line.            */
    ISC_RESULT (*ShowStatusText)(
        ISC_CLIENT_HANDLE  handle,
        const ISC_STRING   text);

    /* page "HandleError": report an asynchronous error as text.            */
    /* clntCmdTrackID is the ID given to the failing InvokeCommand, or      */
    /* NULL (0) when the error has no command context.                      */
    ISC_RESULT (*HandleError)(
        ISC_CLIENT_HANDLE  handle,
        const ISC_STRING   clntCmdTrackID,
        const ISC_STRING   error);

    /* page "CacheCommandInformation": push command status to the toolbar.  */
    /* The i-th entries of the three lists belong together; statuses are    */
    /* SCCommandFlag bit sets.                                              */
    ISC_RESULT (*CacheCommandInformation)(
        ISC_CLIENT_HANDLE                handle,
        const struct ISC_StrParamList   *commandNames,
        const struct ISC_StrParamList   *commandDescriptions,
        const struct ISC_LongParamList  *commandStatuses);

    /* page "BeginBatch": start grouping the following client calls; they   */
    /* are delivered together at EndBatch (saves network round trips).      */
    ISC_RESULT (*BeginBatch)(ISC_CLIENT_HANDLE handle);

    /* page "EndBatch": flush the batch opened by BeginBatch.  (Oracle's    */
    /* page prints the BeginBatch name in the code line; the parameter list */
    /* is the same.)                                                        */
    ISC_RESULT (*EndBatch)(ISC_CLIENT_HANDLE handle);

    /* page "UpdateObjectInformation": status change of a monitored object  */
    /* (agent/DN), e.g. became busy.  datasetInfo holds SCObjectProperty    */
    /* entries.                                                             */
    ISC_RESULT (*UpdateObjectInformation)(
        ISC_CLIENT_HANDLE              handle,
        const ISC_STRING               trackingID,
        const ISC_STRING               mediaTargetAddr,
        const struct ISC_KVParamList  *datasetInfo);

    /* page "IndicateNewWorkItem": a new work item is arriving (brings the  */
    /* application to front, plays the ring sound if the user enabled it).  */
    ISC_RESULT (*IndicateNewWorkItem)(
        ISC_CLIENT_HANDLE    handle,
        const ISC_STRING     trackingID,
        const ISC_STRING     oldTrackingID,
        const ISC_STRING     description,
        enum SCWorkItemMode  workItemMode);

    /* page "WorkItemStarted": the work item started (e.g. call connected). */
    ISC_RESULT (*WorkItemStarted)(
        ISC_CLIENT_HANDLE  handle,
        const ISC_STRING   trackingID,
        const ISC_STRING   oldTrackingID,
        const ISC_STRING   description,
        const ISC_STRING   mediaTargetAddr,
        time_t             startTime);

    /* page "WorkItemReleased": the work item ended (e.g. call hung up).    */
    ISC_RESULT (*WorkItemReleased)(
        ISC_CLIENT_HANDLE  handle,
        const ISC_STRING   trackingID,
        time_t             stopTime);

    /* page "CleanAllWorkItem": every work item of this session is gone.    */
    ISC_RESULT (*CleanAllWorkItem)(ISC_CLIENT_HANDLE handle);

    /* INFERRED: the client handle to pass as first argument to every call. */
    ISC_CLIENT_HANDLE clientHandle;
};
typedef struct ISC_CLIENT_INTERFACE ISC_CLIENT_INTERFACE;

/* Compile-time check (C99-compatible): ISC_CHAR must be 2 bytes.           */
typedef char scapi_isc_char_must_be_2_bytes[(sizeof(ISC_CHAR) == 2) ? 1 : -1];

/* ------------------------------------------------------------------------ */
/* Driver-handle entry points - page "Methods of ISC_DRIVER_HANDLE" and the */
/* per-method pages.  All DOCUMENTED.                                       */
/* ------------------------------------------------------------------------ */

/* page "APIVersion": return SCAPI_VERSION.  Called first.                  */
SCAPI_EXPORT long APIVersion(void);

/* page "CreateISCDriverInstance": create the driver handle and do global   */
/* set-up (e.g. connect to the middleware).  datasetParams carries the      */
/* Driver: and unprefixed parameters.                                       */
SCAPI_EXPORT ISC_RESULT CreateISCDriverInstance(
    const ISC_STRING               mediaTypeStr,
    const ISC_STRING               languageCode,
    const ISC_STRING               connectString,
    const struct ISC_KVParamList  *datasetParams,
    ISC_DRIVER_HANDLE             *handle);               /* out */

/* page "FreeSCStrParamList": free a list the driver allocated (those       */
/* returned by RequestCommandEventList).  Takes the struct BY VALUE.        */
/* Oracle: mandatory since 7.7, or the driver is not loaded.                */
SCAPI_EXPORT void FreeSCStrParamList(struct ISC_StrParamList strList);

/* page "GetImplementationObject": hand out an internal object (driver      */
/* handle, service handle, ...) to an aggregating driver.  We have none.    */
SCAPI_EXPORT ISC_RESULT GetImplementationObject(
    ISC_HANDLE   key,
    ISC_HANDLE  *impObj);                                 /* out */

/* page "ReleaseISCDriverInstance": destroy the driver handle, drop the     */
/* middleware connection.                                                   */
SCAPI_EXPORT ISC_RESULT ReleaseISCDriverInstance(ISC_DRIVER_HANDLE handle);

/* page "RequestCommandEventList": fill the lists of device commands and    */
/* device events this driver supports; freed later by FreeSCStrParamList.   */
SCAPI_EXPORT ISC_RESULT RequestCommandEventList(
    const ISC_STRING          mediaTypeStr,
    struct ISC_StrParamList  *commandList,                /* out */
    struct ISC_StrParamList  *eventList);                 /* out */

/* page "RequestService": create one service handle per agent session.      */
/* The client interface arrives BY VALUE: copy what you keep.               */
/* datasetParams carries the Service: and unprefixed parameters.            */
SCAPI_EXPORT ISC_RESULT RequestService(
    ISC_DRIVER_HANDLE                  handle,
    const struct ISC_CLIENT_INTERFACE  clntInterface,
    const ISC_STRING                   connectString,
    const struct ISC_KVParamList      *datasetParams,
    ISC_SERVICE_HANDLE                *serviceHandle);    /* out */

/* ------------------------------------------------------------------------ */
/* Service-handle entry points - page "Methods of ISC_SERVICE_HANDLE" and   */
/* the per-method pages.  DOCUMENTED unless marked.  On failure a method    */
/* may also report details through the client's HandleError.               */
/* ------------------------------------------------------------------------ */

/* page "AcceptWorkItem".                                                   */
SCAPI_EXPORT ISC_RESULT AcceptWorkItem(
    ISC_SERVICE_HANDLE  handle,
    const ISC_STRING    trackingID);

/* page "HandleQueuedWorkItem": a work item routed to this agent by a       */
/* queuing engine (e.g. Siebel Universal Queuing).                          */
SCAPI_EXPORT ISC_RESULT HandleQueuedWorkItem(
    ISC_SERVICE_HANDLE             handle,
    const ISC_STRING               name,
    const struct ISC_KVParamList  *fields,
    const ISC_STRING               trackingID);

/* page "InvokeCommand": run a named device command.  The minimum every     */
/* driver must implement.  clntCmdTrackID identifies the request in a later */
/* HandleError; stringParam is the single unnamed parameter (toolbar edit   */
/* box) and datasetParam the named ones.                                    */
SCAPI_EXPORT ISC_RESULT InvokeCommand(
    ISC_SERVICE_HANDLE             handle,
    const ISC_STRING               clntCmdTrackID,
    const ISC_STRING               name,
    const ISC_STRING               stringParam,
    const struct ISC_KVParamList  *datasetParam);

/* page "InvokeCommandEx": run a command chosen by type (SCCommandTypeEx)   */
/* with the predefined parameters of that type.                             */
SCAPI_EXPORT ISC_RESULT InvokeCommandEx(
    ISC_SERVICE_HANDLE             handle,
    const ISC_STRING               clntCmdTrackID,
    enum SCCommandTypeEx           commandType,
    const struct ISC_KVParamList  *datasetParam);

/* page "NotifyEventHandlingFinished": Siebel finished handling the event   */
/* the driver sent with HandleEvent(notifyWhenDone = true).                 */
SCAPI_EXPORT ISC_RESULT NotifyEventHandlingFinished(
    ISC_SERVICE_HANDLE  handle,
    const ISC_STRING    trackingID,
    ISC_BOOLEAN         result);

/* page "ReleaseISCServiceInstance": last call for this session; after it   */
/* the driver must not call the client interface again.                     */
SCAPI_EXPORT ISC_RESULT ReleaseISCServiceInstance(ISC_SERVICE_HANDLE handle);

/* page "ReleaseWorkItem".                                                  */
SCAPI_EXPORT ISC_RESULT ReleaseWorkItem(
    ISC_SERVICE_HANDLE  handle,
    const ISC_STRING    trackingID);

/* page "ResumeWorkItem".                                                   */
SCAPI_EXPORT ISC_RESULT ResumeWorkItem(
    ISC_SERVICE_HANDLE  handle,
    const ISC_STRING    trackingID);

/* page "RevokeQueuedWorkItem": the queuing engine withdraws a work item    */
/* it had routed with HandleQueuedWorkItem.                                 */
SCAPI_EXPORT ISC_RESULT RevokeQueuedWorkItem(
    ISC_SERVICE_HANDLE  handle,
    const ISC_STRING    trackingID);

/* page "SuspendWorkItem".                                                  */
SCAPI_EXPORT ISC_RESULT SuspendWorkItem(
    ISC_SERVICE_HANDLE  handle,
    const ISC_STRING    trackingID);

/* ------------------------------------------------------------------------ */
/* NOT DOCUMENTED - extra exports listed in our shared/SCAPI.md only.       */
/* No Oracle page (any edition found) lists HandleQueuedEvent or            */
/* CancelQueuedEvent; the documented queue methods are HandleQueuedWorkItem */
/* and RevokeQueuedWorkItem above.  Siebel is not known to call these two.  */
/* INFERRED signatures, by analogy with those documented methods.  Harmless */
/* as extra symbols; delete both prototypes if the project drops them.     */
/* ------------------------------------------------------------------------ */
SCAPI_EXPORT ISC_RESULT HandleQueuedEvent(
    ISC_SERVICE_HANDLE             handle,
    const ISC_STRING               name,
    const struct ISC_KVParamList  *fields,
    const ISC_STRING               trackingID);

SCAPI_EXPORT ISC_RESULT CancelQueuedEvent(
    ISC_SERVICE_HANDLE  handle,
    const ISC_STRING    trackingID);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* SCAPI_H_INCLUDED */
