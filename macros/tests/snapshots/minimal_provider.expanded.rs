impl mapisync::MapiSync for MyStore {
    fn synchronize_in_background(
        &self,
        job: &mut mapisync::SyncJob,
    ) -> mapisync::Result<()> {
        job.progress("Downloading headers", 1, 1)
    }
}
const _: () = {
    static VTABLE: ::mapisync::__private::IMAPISync_Vtbl = ::mapisync::__private::vtable::<
        MyStore,
    >();
    #[automatically_derived]
    #[doc(hidden)]
    unsafe impl ::mapisync::__private::Provider for MyStore {
        const VTABLE: &'static ::mapisync::__private::IMAPISync_Vtbl = &VTABLE;
    }
    #[automatically_derived]
    impl ::mapisync::__private::ProviderOf<MyStore>
    for ::mapisync::__private::ProviderProbe<MyStore> {
        #[inline]
        fn into_sync(provider: MyStore) -> ::mapisync::IMAPISync {
            ::mapisync::__private::into_interface(provider)
        }
    }
};
