//! `export_server!`: the DLL entry points of an in-proc server, generated
//! in the provider crate.

/// Exports the in-proc server entry points for one or more provider classes:
/// `DllGetClassObject` and `DllCanUnloadNow`, and on Windows
/// `DllRegisterServer`, `DllUnregisterServer` and `DllInstall`.
///
/// Each class is `Type => "{CLSID}", constructor`, where the constructor is
/// any expression callable as `FnOnce() -> Type` (a path such as
/// `Type::new` or `Type::default`, or a closure that captures nothing).
/// Classes are separated by `;`. A class followed by `, aggregatable` can
/// be created as the inner object of a COM aggregate (its constructor is
/// [`aggregate::new_aggregatable`](crate::aggregate::new_aggregatable));
/// the others refuse an outer unknown. Use it once per crate, at module level:
///
/// ```
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
#[macro_export]
macro_rules! export_server {
    ($($provider:ty => $clsid:literal, $new:expr $(, $aggregatable:ident)?);+ $(;)?) => {
        const _: () = {
            static CLASSES: &[$crate::server::ServerClass] = &[$(
                $crate::server::ServerClass::new(
                    $crate::server::clsid($clsid),
                    ::core::stringify!($provider),
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
