//! Invariants several targets assert.

use std::fmt::Debug;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use rasn::{Decode, Encode};

/// Whether `inner` is a part of `outer` (a parser handed back a slice of its input, not a
/// copy or something else).
pub fn lies_within(outer: &[u8], inner: &[u8]) -> bool {
    let outer = outer.as_ptr_range();
    let inner = inner.as_ptr_range();
    outer.start <= inner.start && inner.end <= outer.end
}

/// A decoded value encodes to DER that decodes to the same value: nothing read is lost or
/// invented, whatever leniency the decoder had for the bytes it was given.
pub fn der_round_trip<T: Encode + Decode + PartialEq + Debug>(value: &T) {
    let der = match rasn::der::encode(value) {
        Ok(der) => der,
        Err(error) => panic!("decoded {value:?} does not encode: {error}"),
    };
    match rasn::der::decode::<T>(&der) {
        Ok(again) => assert_eq!(&again, value, "DER round trip changed the value"),
        Err(error) => panic!("re-encoded {value:?} does not decode: {error}"),
    }
}

/// The output of a future that never waits (it reads memory only), from its first poll.
pub fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a future over memory waited"),
    }
}
