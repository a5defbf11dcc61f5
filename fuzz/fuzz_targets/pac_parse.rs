#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kdc_fuzz::targets::pac_parse::run(data));
