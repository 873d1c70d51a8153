//! `export_server!`: the DLL entry points of an in-proc server, generated
//! in the provider crate, and the constants it gives each class.

use windows_core::GUID;

/// A class [`export_server!`](crate::export_server) exports: its CLSID and
/// registry name as constants, so tests and hosts name the class instead
/// of repeating the CLSID literal.
///
/// ```standalone_crate
/// # #[derive(Default)] pub struct MyStore;
/// # #[mapisync::provider]
/// # impl mapisync::MapiSync for MyStore {
/// #     fn synchronize_in_background(&self, _: &mut mapisync::SyncJob) -> mapisync::Result<()> { Ok(()) }
/// # }
/// mapisync::export_server!(MyStore => "{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}", MyStore::default);
///
/// use mapisync::server::ExportedClass;
/// assert_eq!(MyStore::CLSID, mapisync::server::clsid("{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}"));
/// assert_eq!(MyStore::NAME, "MyStore");
/// ```
/// `export_server!` writes the implementation, so (by Rust's orphan rule)
/// the provider type must be defined in the crate that calls it.
pub trait ExportedClass {
    /// The class identifier hosts create the class by.
    const CLSID: GUID;
    /// The name registration writes as the CLSID key's default value.
    const NAME: &'static str;
}

/// Named by `export_server!` in a crate built with `panic = "abort"`, for the
/// warning its deprecation note prints; not an API.
#[doc(hidden)]
#[deprecated(note = "this crate is built with panic = \"abort\": a panic in a provider ends the host process \
                     (OUTLOOK.EXE) instead of reaching the host as an HRESULT; build the provider DLL with \
                     panic = \"unwind\" (the default)")]
pub const PANIC_ABORT_ENDS_THE_HOST_PROCESS: () = ();

/// Exports the in-proc server entry points for one or more provider classes:
/// `DllGetClassObject` and `DllCanUnloadNow`, and on Windows
/// `DllRegisterServer`, `DllUnregisterServer` and `DllInstall`; the DLL
/// exports nothing else of mapisync's.
///
/// Call it in a `cdylib` crate, for hosts that create the class with COM
/// activation (`CoCreateInstance`, or `DllGetClassObject` after
/// `LoadLibrary`). Each type is a provider (its `impl MapiSync` carries
/// [`#[mapisync::provider]`](https://docs.rs/mapisync/latest/mapisync/attr.provider.html)) defined in this crate:
///
/// ```standalone_crate
/// #[derive(Default)]
/// pub struct MyStore;
///
/// #[mapisync::provider]
/// impl mapisync::MapiSync for MyStore {
///     fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
///         job.progress("Downloading headers", 1, 1)
///     }
/// }
///
/// mapisync::export_server!(MyStore => "{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}", MyStore::default);
/// ```
///
/// A store provider that MAPI loads (`MSProviderInit`, not COM activation)
/// does not need it; it aggregates its provider into the store object with
/// [`aggregate::create_inner`](crate::aggregate::create_inner) and calls
/// [`lifecycle`](crate::lifecycle) on logoff and shutdown.
///
/// Each class is `Type => "{CLSID}", constructor`, where the constructor is
/// any expression callable as `FnOnce() -> Type` (a path such as
/// `Type::new` or `Type::default`, or a closure that captures nothing).
/// Classes are separated by `;`. A class followed by `, aggregatable` can
/// be created as the inner object of a COM aggregate (its constructor is
/// [`aggregate::new_aggregatable`](crate::aggregate::new_aggregatable));
/// the others refuse an outer unknown. Use it once per crate, at module
/// level; several classes go in one call:
///
/// ```standalone_crate
/// # #[derive(Default)] pub struct Inbox;
/// # #[derive(Default)] pub struct Archive;
/// # #[mapisync::provider]
/// # impl mapisync::MapiSync for Inbox {
/// #     fn synchronize_in_background(&self, _: &mut mapisync::SyncJob) -> mapisync::Result<()> { Ok(()) }
/// # }
/// # #[mapisync::provider]
/// # impl mapisync::MapiSync for Archive {
/// #     fn synchronize_in_background(&self, _: &mut mapisync::SyncJob) -> mapisync::Result<()> { Ok(()) }
/// # }
/// mapisync::export_server! {
///     Inbox => "{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}", Inbox::default;
///     Archive => "{39A7C4C6-53CE-4119-89CB-BD5C40BD5C7C}", || Archive, aggregatable;
/// }
/// ```
/// A malformed CLSID is a compile error.
///
/// What else it gives the crate, and checks:
/// - each class's CLSID as a constant, [`ExportedClass::CLSID`](crate::server::ExportedClass::CLSID), so tests
///   and hosts name the class instead of repeating the literal;
/// - a second `export_server!` in the same crate is an error at
///   `cargo check` time (E0428, "the name
///   `mapisync_export_server_may_be_called_only_once_per_crate` is defined
///   multiple times"), pointing at the second call; list every class in one
///   call instead;
/// - a crate built with `panic = "abort"` gets a warning: a panic in the
///   provider would then end the host process (OUTLOOK.EXE) instead of
///   reaching the host as an HRESULT, because nothing can catch it.
#[macro_export]
macro_rules! export_server {
    ($($provider:ty => $clsid:literal, $new:expr $(, $aggregatable:ident)?);+ $(;)?) => {
        // One call per crate: a second one defines this crate-wide macro
        // again, an error at the second call (not a link error later).
        #[doc(hidden)]
        #[macro_export]
        macro_rules! mapisync_export_server_may_be_called_only_once_per_crate {
            () => {};
        }

        $(
            impl $crate::server::ExportedClass for $provider {
                const CLSID: $crate::GUID = $crate::server::clsid($clsid);
                const NAME: &'static str = ::core::stringify!($provider);
            }
        )+

        // panic = "abort" cannot be caught: say so where the DLL is built.
        #[cfg(panic = "abort")]
        const _: () = $crate::server::PANIC_ABORT_ENDS_THE_HOST_PROCESS;

        const _: () = {
            static CLASSES: &[$crate::server::ServerClass] = &[$(
                $crate::server::ServerClass::new(
                    <$provider as $crate::server::ExportedClass>::CLSID,
                    <$provider as $crate::server::ExportedClass>::NAME,
                    |outer| $crate::__server_constructor!($provider, outer, $new $(, $aggregatable)?),
                )
            ),+];

            /// COM: makes a class factory for one of this module's classes.
            ///
            /// # Safety
            /// Each pointer is NULL or valid for the whole call.
            #[unsafe(no_mangle)]
            #[allow(non_snake_case)]
            pub unsafe extern "system" fn DllGetClassObject(
                rclsid: *const $crate::server::GUID,
                riid: *const $crate::server::GUID,
                ppv: *mut *mut ::core::ffi::c_void,
            ) -> $crate::HRESULT {
                // SAFETY: COM: the host passes each pointer NULL or valid for the whole
                // call, which is `get_class_object`'s contract.
                unsafe { $crate::server::get_class_object(CLASSES, rclsid, riid, ppv) }
            }

            /// COM: S_OK when no object or lock of this module lives.
            #[unsafe(no_mangle)]
            #[allow(non_snake_case)]
            pub extern "system" fn DllCanUnloadNow() -> $crate::HRESULT {
                $crate::server::can_unload_now()
            }

            /// COM: registers every class under HKLM.
            #[cfg(windows)]
            #[unsafe(no_mangle)]
            #[allow(non_snake_case)]
            pub extern "system" fn DllRegisterServer() -> $crate::HRESULT {
                $crate::server::register(CLASSES, $crate::server::Scope::Machine)
            }

            /// COM: removes every class from HKLM.
            #[cfg(windows)]
            #[unsafe(no_mangle)]
            #[allow(non_snake_case)]
            pub extern "system" fn DllUnregisterServer() -> $crate::HRESULT {
                $crate::server::unregister(CLASSES, $crate::server::Scope::Machine)
            }

            /// COM: `regsvr32 /n /i:user` registers under HKCU, `/n /i` under HKLM.
            ///
            /// # Safety
            /// `cmdline` is NULL or a NUL-terminated UTF-16 string.
            #[cfg(windows)]
            #[unsafe(no_mangle)]
            #[allow(non_snake_case)]
            pub unsafe extern "system" fn DllInstall(install: i32, cmdline: *const u16) -> $crate::HRESULT {
                // SAFETY: DllInstall: the host passes `cmdline` NULL or NUL-terminated,
                // which is `install`'s contract.
                unsafe { $crate::server::install(CLASSES, install, cmdline) }
            }
        };
    };
}

/// The constructor `export_server!` uses for one class: plain, or `aggregatable`.
#[doc(hidden)]
#[macro_export]
macro_rules! __server_constructor {
    ($provider:ty, $outer:ident, $new:expr) => {
        $crate::server::new_provider::<$provider>($outer, $new)
    };
    ($provider:ty, $outer:ident, $new:expr, aggregatable) => {
        $crate::aggregate::new_aggregatable::<$provider>($outer, $new)
    };
}
