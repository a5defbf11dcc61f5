#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kdc_fuzz::targets::cert_path::run(data));
