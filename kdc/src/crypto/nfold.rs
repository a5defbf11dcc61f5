//! n-fold (RFC 3961 §5.1): spreads a short constant such as a key usage or "kerberos" over
//! one cipher block for DR/DK.

/// Folds `input` to `out_len` bytes.
///
/// The input is repeated until the length is the least common multiple of both lengths,
/// copy `k` rotated right by `13 * k` bits; the result is cut into `out_len`-byte pieces
/// that are summed with ones'-complement addition. An empty input folds to zeros.
pub(super) fn nfold(input: &[u8], out_len: usize) -> Vec<u8> {
    let mut out = vec![0u8; out_len];
    if input.is_empty() || out_len == 0 {
        return out;
    }
    let copies = lcm(input.len(), out_len) / input.len();
    let stretched: Vec<u8> = (0..copies)
        .flat_map(|k| rotate_right_bits(input, 13 * k))
        .collect();
    for piece in stretched.chunks(out_len) {
        ones_complement_add(&mut out, piece);
    }
    out
}

/// Rotates the big-endian bit string `input` right by `bits` positions: whole bytes by
/// index, the rest by shifting each byte with its left neighbour's low bits (this runs
/// for every key derivation, so not bit by bit).
fn rotate_right_bits(input: &[u8], bits: usize) -> Vec<u8> {
    let len = input.len();
    if len == 0 {
        return Vec::new();
    }
    let shift = bits % (len * 8);
    let (byte_shift, bit_shift) = (shift / 8, shift % 8);
    // Output byte i takes its high bits from input byte i - byte_shift - 1 and its low bits
    // from input byte i - byte_shift (indices modulo len).
    let byte_at = |index: usize| input.get(index % len).copied().unwrap_or(0);
    (0..len)
        .map(|i| {
            let right = byte_at(i + len - byte_shift % len);
            if bit_shift == 0 {
                return right;
            }
            let left = byte_at(i + 2 * len - byte_shift % len - 1);
            (right >> bit_shift) | (left << (8 - bit_shift))
        })
        .collect()
}

/// `acc += addend` as big-endian ones'-complement numbers of equal length: the carry out
/// of the top byte wraps around into the bottom byte.
fn ones_complement_add(acc: &mut [u8], addend: &[u8]) {
    let mut carry = 0u16;
    for (a, b) in acc.iter_mut().rev().zip(addend.iter().rev()) {
        let sum = u16::from(*a) + u16::from(*b) + carry;
        *a = low_byte(sum);
        carry = sum >> 8;
    }
    // One wrap-around suffices: two n-byte values plus 1 cannot overflow twice.
    if carry != 0 {
        for a in acc.iter_mut().rev() {
            let sum = u16::from(*a) + carry;
            *a = low_byte(sum);
            carry = sum >> 8;
            if carry == 0 {
                break;
            }
        }
    }
}

fn low_byte(value: u16) -> u8 {
    let [_, low] = value.to_be_bytes();
    low
}

fn lcm(a: usize, b: usize) -> usize {
    a / gcd(a, b) * b
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::nfold;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    /// RFC 3961 Appendix A.1.
    #[test]
    fn rfc3961_a1_vectors() {
        let vectors: [(usize, &[u8], &str); 11] = [
            (64, b"012345", "be072631276b1955"),
            (56, b"password", "78a07b6caf85fa"),
            (64, b"Rough Consensus, and Running Code", "bb6ed30870b7f0e0"),
            (
                168,
                b"password",
                "59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e",
            ),
            (
                192,
                b"MASSACHVSETTS INSTITVTE OF TECHNOLOGY",
                "db3b0d8f0b061e603282b308a50841229ad798fab9540c1b",
            ),
            (168, b"Q", "518a54a2 15a8452a 518a54a2 15a8452a 518a54a2 15"),
            (
                168,
                b"ba",
                "fb25d531 ae897449 9f52fd92 ea9857c4 ba24cf29 7e",
            ),
            (64, b"kerberos", "6b657262 65726f73"),
            (128, b"kerberos", "6b657262 65726f73 7b9b5b2b 93132b93"),
            (
                168,
                b"kerberos",
                "8372c236 344e5f15 50cd0747 e15d62ca 7a5a3bce a4",
            ),
            (
                256,
                b"kerberos",
                "6b657262 65726f73 7b9b5b2b 93132b93 5c9bdcda d95c9899 c4cae4de e6d6cae4",
            ),
        ];
        for (bits, input, expected) in vectors {
            assert_eq!(
                hex::encode(nfold(input, bits / 8)),
                hex::encode(unhex(expected)),
                "{bits}-fold({:?})",
                String::from_utf8_lossy(input)
            );
        }
    }

    /// The bytewise rotation against the definition, bit by bit, for every shift of inputs
    /// of several lengths.
    #[test]
    fn rotation_matches_the_bitwise_definition() {
        let bit = |input: &[u8], index: usize| (input[index / 8] >> (7 - index % 8)) & 1;
        for input in [&b"Q"[..], b"ba", b"012345", b"\x80\x01\xff\x00\x5a\xa5\x3c"] {
            let total = input.len() * 8;
            for shift in 0..3 * total {
                let expected: Vec<u8> = (0..input.len())
                    .map(|byte| {
                        (0..8).fold(0u8, |acc, b| {
                            let source = (byte * 8 + b + total - shift % total) % total;
                            (acc << 1) | bit(input, source)
                        })
                    })
                    .collect();
                assert_eq!(
                    super::rotate_right_bits(input, shift),
                    expected,
                    "{input:?} >> {shift}"
                );
            }
        }
    }

    #[test]
    fn empty_input_folds_to_zeros() {
        assert_eq!(nfold(b"", 16), vec![0u8; 16]);
    }
}
