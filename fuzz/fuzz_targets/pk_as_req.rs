#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kdc_fuzz::targets::pk_as_req::run(data));
