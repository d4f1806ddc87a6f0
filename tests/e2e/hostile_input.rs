//! Hostile input to every entry point: null pointers, unknown and released handles,
//! malformed UTF-16, absurd list lengths, double frees. Each gets an error code; the test
//! process (the host) survives and the driver keeps working.

use std::ptr::{null, null_mut};

use scs_sim::scapi::*;
use scs_sim::server::Wide;
use scs_sim::CommServer;

use crate::common::*;

const LONE_SURROGATE: [u16; 3] = [0x0041, 0xD800, 0];

#[test]
fn every_entry_point_rejects_bad_input_without_crashing() {
    let lib = library();
    let api = &lib.api;
    let bad = LONE_SURROGATE.as_ptr() as ISC_STRING;
    let long: Vec<u16> = std::iter::repeat_n(0x41, 100_000).chain([0]).collect();
    let long = long.as_ptr() as ISC_STRING;
    let bogus = 0xDEAD_BEE0usize as *mut std::ffi::c_void;
    let mut w = Wide::new();
    let voice = w.s("Voice");
    let empty = w.s("");
    let name = w.s("LogIn");
    let mut neg = ISC_KVParamList {
        len: -5,
        dataItems: null_mut(),
    };
    let mut huge = ISC_KVParamList {
        len: 1 << 40,
        dataItems: null_mut(),
    };
    let mut nulls = ISC_KVParamList {
        len: 3,
        dataItems: null_mut(),
    };
    let mut null_name = [ISC_KeyValue {
        paramName: null_mut(),
        paramValue: empty,
    }];
    let mut null_name_list = ISC_KVParamList {
        len: 1,
        dataItems: null_name.as_mut_ptr(),
    };
    let mut bad_value = [ISC_KeyValue {
        paramName: name,
        paramValue: bad,
    }];
    let mut bad_value_list = ISC_KVParamList {
        len: 1,
        dataItems: bad_value.as_mut_ptr(),
    };
    let bad_lists: [*const ISC_KVParamList; 5] = [
        &mut neg,
        &mut huge,
        &mut nulls,
        &mut null_name_list,
        &mut bad_value_list,
    ];

    unsafe {
        // Driver creation.
        let mut h: ISC_DRIVER_HANDLE = bogus;
        assert_ne!(
            (api.CreateISCDriverInstance)(voice, empty, empty, null(), null_mut()),
            ec::OK
        );
        assert_eq!(
            (api.CreateISCDriverInstance)(w.s("Email"), empty, empty, null(), &mut h),
            ec::MEDIA_TYPE_NOT_SUPPORTED
        );
        assert!(h.is_null(), "the out handle is cleared on failure");
        for s in [bad, long] {
            assert_ne!(
                (api.CreateISCDriverInstance)(voice, s, empty, null(), &mut h),
                ec::OK
            );
            assert_ne!(
                (api.CreateISCDriverInstance)(s, empty, empty, null(), &mut h),
                ec::OK
            );
        }
        for l in bad_lists {
            assert_eq!(
                (api.CreateISCDriverInstance)(voice, empty, empty, l, &mut h),
                ec::DRIVER_CREATION_ERR
            );
        }
        let bad_port = w.kv(&[("Driver:BrokerPort".into(), "not-a-port".into())]);
        assert_eq!(
            (api.CreateISCDriverInstance)(voice, empty, empty, &bad_port, &mut h),
            ec::DRIVER_CREATION_ERR
        );

        // Command/event lists and their release.
        let mut l = ISC_StrParamList {
            len: 0,
            dataItems: null_mut(),
        };
        assert_ne!(
            (api.RequestCommandEventList)(voice, null_mut(), &mut l),
            ec::OK
        );
        assert_ne!(
            (api.RequestCommandEventList)(bad, &mut l, &mut l.clone()),
            ec::OK
        );
        let mut e = l;
        assert_eq!((api.RequestCommandEventList)(voice, &mut l, &mut e), ec::OK);
        (api.FreeSCStrParamList)(l);
        (api.FreeSCStrParamList)(l); // double free: refused and logged
        (api.FreeSCStrParamList)(e);
        (api.FreeSCStrParamList)(ISC_StrParamList {
            len: 2,
            dataItems: null_mut(),
        });
        let mut fake = [null_mut::<u16>()];
        (api.FreeSCStrParamList)(ISC_StrParamList {
            len: 1,
            dataItems: fake.as_mut_ptr(),
        });

        let mut obj: ISC_HANDLE = bogus;
        assert_ne!((api.GetImplementationObject)(null_mut(), &mut obj), ec::OK);
        assert!(obj.is_null());
        assert_ne!(
            (api.GetImplementationObject)(null_mut(), null_mut()),
            ec::OK
        );

        // Unknown driver handles.
        for dh in [null_mut(), bogus] {
            assert_eq!((api.ReleaseISCDriverInstance)(dh), ec::INVALID_HANDLE);
            let mut sh: ISC_SERVICE_HANDLE = bogus;
            let client = scs_sim::Client::new("x", false);
            assert_eq!(
                (api.RequestService)(dh, client.interface(), empty, null(), &mut sh),
                ec::INVALID_HANDLE
            );
            assert!(sh.is_null());
        }
    }

    // A real driver and session, then bad calls against them.
    let access = BrokerAccess::shared();
    let params = access.driver_params(&access.queue());
    let server = CommServer::start(lib.clone(), "ENU", &params).unwrap();
    let dh = server.raw_handle();
    unsafe {
        let client = scs_sim::Client::new("x", false);
        let mut sh: ISC_SERVICE_HANDLE = null_mut();
        let mut iface = client.interface();
        iface.HandleEvent = None;
        assert_eq!(
            (api.RequestService)(dh, iface, empty, null(), &mut sh),
            ec::CLIENT_INTERFACE_ERR
        );
        assert_ne!(
            (api.RequestService)(dh, client.interface(), empty, null(), null_mut()),
            ec::OK
        );
        for l in bad_lists {
            assert_eq!(
                (api.RequestService)(dh, client.interface(), empty, l, &mut sh),
                ec::SERVICE_CREATION_ERR
            );
        }
        assert_ne!(
            (api.RequestService)(dh, client.interface(), bad, null(), &mut sh),
            ec::OK
        );
    }
    let mut agent = server
        .request_service(&login("1001", "secret", "5001"), &[], false)
        .unwrap();
    let sh = agent.raw_handle();
    unsafe {
        let track = w.s("t1");
        // InvokeCommand: null name, bad strings, bad lists, unknown command.
        assert_ne!(
            (api.InvokeCommand)(sh, track, null_mut(), empty, null()),
            ec::OK
        );
        assert_ne!((api.InvokeCommand)(sh, bad, name, empty, null()), ec::OK);
        assert_ne!((api.InvokeCommand)(sh, track, name, long, null()), ec::OK);
        for l in bad_lists {
            assert_ne!((api.InvokeCommand)(sh, track, name, empty, l), ec::OK);
        }
        assert_eq!(
            (api.InvokeCommand)(sh, track, w.s("FormatDisk"), empty, null()),
            ec::CMD_NOT_SUPPORTED
        );
        assert_eq!(
            (api.InvokeCommandEx)(sh, track, 2, null()),
            ec::CMD_NOT_SUPPORTED
        );
        // Make call: accepted; the missing number is reported later, as for InvokeCommand.
        assert_eq!((api.InvokeCommandEx)(sh, track, 1, null()), ec::OK);
        assert_ne!((api.InvokeCommandEx)(sh, bad, 1, null()), ec::OK);
        assert_ne!((api.NotifyEventHandlingFinished)(sh, bad, 1), ec::OK);
        assert_eq!((api.NotifyEventHandlingFinished)(sh, track, 1), ec::OK);
        type WorkItemFn = unsafe extern "C" fn(ISC_SERVICE_HANDLE, ISC_STRING) -> ISC_RESULT;
        let work: [WorkItemFn; 6] = [
            api.AcceptWorkItem,
            api.ReleaseWorkItem,
            api.SuspendWorkItem,
            api.ResumeWorkItem,
            api.RevokeQueuedWorkItem,
            api.CancelQueuedEvent,
        ];
        for f in work {
            assert_eq!(f(sh, track), ec::INVALID_ITEM_TRACKING_ID);
            assert_eq!(f(sh, null_mut()), ec::INVALID_ITEM_TRACKING_ID);
            assert_ne!(f(sh, bad), ec::OK);
            assert_eq!(f(bogus, track), ec::INVALID_HANDLE);
            assert_eq!(f(null_mut(), track), ec::INVALID_HANDLE);
        }
        for f in [api.HandleQueuedWorkItem, api.HandleQueuedEvent] {
            assert_eq!(f(sh, name, null(), track), ec::INVALID_ITEM_TRACKING_ID);
            for l in bad_lists {
                assert_ne!(f(sh, name, l, track), ec::OK);
            }
            assert_ne!(f(sh, bad, null(), track), ec::OK);
            assert_eq!(f(bogus, name, null(), track), ec::INVALID_HANDLE);
        }
        // Handles of the wrong kind are unknown, not confused.
        assert_eq!((api.ReleaseISCDriverInstance)(sh), ec::INVALID_HANDLE);
        assert_eq!((api.ReleaseISCServiceInstance)(dh), ec::INVALID_HANDLE);
        assert_eq!(
            (api.InvokeCommand)(dh, track, name, empty, null()),
            ec::INVALID_HANDLE
        );
        assert_eq!(
            (api.InvokeCommand)(null_mut(), track, name, empty, null()),
            ec::INVALID_HANDLE
        );
    }
    // After all that the session still works.
    wait_status(&agent.client, 0, "CTI");
    assert_eq!(agent.release(), 0);
    unsafe {
        // Released handles are unknown.
        assert_eq!((api.ReleaseISCServiceInstance)(sh), ec::INVALID_HANDLE);
        assert_eq!(
            (api.InvokeCommand)(sh, w.s("t"), name, empty, null()),
            ec::INVALID_HANDLE
        );
    }
}
