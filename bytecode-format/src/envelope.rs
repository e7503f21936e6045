//! The file envelope shared by `.mir` and `.bc` files:
//!
//! ```text
//! magic (8 bytes) | format version (u32 LE) | producer length (u16 LE) |
//! producer (UTF-8) | payload length (u64 LE) | FNV-1a 64 checksum of the
//! payload (u64 LE) | payload (bincode 2, standard config)
//! ```
//!
//! Decoding checks each field in order and never allocates more than the
//! size limit, so a hostile length prefix cannot exhaust memory.

use serde::{de::DeserializeOwned, Serialize};
use std::fmt;

/// The largest payload any tool accepts (256 MiB).
pub const MAX_PAYLOAD: usize = 256 << 20;

/// What a file kind declares about itself.
#[derive(Clone, Copy, Debug)]
pub struct Kind {
    /// Human name for messages (`"MIR"`, `"bytecode"`).
    pub name: &'static str,
    pub magic: [u8; 8],
    pub version: u32,
}

/// Why a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeError {
    NotThisKind {
        expected: &'static str,
    },
    Truncated {
        what: &'static str,
    },
    Version {
        kind: &'static str,
        found: u32,
        expected: u32,
        producer: String,
    },
    TooLarge {
        size: u64,
    },
    LengthMismatch {
        declared: u64,
        actual: u64,
    },
    Checksum,
    Decode(String),
    Encode(String),
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvelopeError::NotThisKind { expected } => write!(f, "not a {expected} file (bad magic number)"),
            EnvelopeError::Truncated { what } => write!(f, "file is truncated (while reading the {what})"),
            EnvelopeError::Version { kind, found, expected, producer } => write!(
                f,
                "{kind} format version {found} (written by {producer}) is not supported; this tool reads version {expected}"
            ),
            EnvelopeError::TooLarge { size } => {
                write!(f, "payload of {size} bytes exceeds the limit of {MAX_PAYLOAD} bytes")
            }
            EnvelopeError::LengthMismatch { declared, actual } => {
                write!(f, "file is truncated or padded: header declares {declared} payload bytes, found {actual}")
            }
            EnvelopeError::Checksum => write!(f, "checksum mismatch: the file is corrupt"),
            EnvelopeError::Decode(e) => write!(f, "malformed contents: {e}"),
            EnvelopeError::Encode(e) => write!(f, "cannot encode: {e}"),
        }
    }
}

impl std::error::Error for EnvelopeError {}

/// The magic number of `.mir` files (the compiler's `MIR_KIND`).
pub const MIR_MAGIC: [u8; 8] = *b"MENAIMIR";

/// What a file handed to a tool is, judged from its first bytes, so a
/// tool given the wrong kind can name the one it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A `.bc` file (`menai-vm` runs it).
    Bytecode,
    /// A `.mir` file (`menai-opt` turns it into bytecode).
    Mir,
    /// UTF-8 text: presumably Menai source (`menai run`, `menaic`).
    Source,
    /// None of these.
    Unknown,
}

/// The kind of `bytes` (see [`FileKind`]).
pub fn file_kind(bytes: &[u8]) -> FileKind {
    if bytes.starts_with(&crate::BC_KIND.magic) {
        FileKind::Bytecode
    } else if bytes.starts_with(&MIR_MAGIC) {
        FileKind::Mir
    } else if std::str::from_utf8(bytes).is_ok() {
        FileKind::Source
    } else {
        FileKind::Unknown
    }
}

/// FNV-1a, 64-bit.
pub fn checksum(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_PAYLOAD>()
}

/// Encodes `value` in an envelope of kind `kind`.
pub fn encode<T: Serialize>(
    kind: Kind,
    producer: &str,
    value: &T,
) -> Result<Vec<u8>, EnvelopeError> {
    let payload = bincode::serde::encode_to_vec(value, config())
        .map_err(|e| EnvelopeError::Encode(e.to_string()))?;
    Ok(frame(kind, producer, &payload))
}

/// Wraps an already encoded `payload` in an envelope of kind `kind` (with
/// its length and checksum); the fuzz targets frame arbitrary bytes so
/// that mutations reach the payload decoder.
pub fn frame(kind: Kind, producer: &str, payload: &[u8]) -> Vec<u8> {
    let producer = &producer.as_bytes()[..producer.len().min(u16::MAX as usize)];
    let mut out = Vec::with_capacity(payload.len() + 40 + producer.len());
    out.extend_from_slice(&kind.magic);
    out.extend_from_slice(&kind.version.to_le_bytes());
    out.extend_from_slice(&(producer.len() as u16).to_le_bytes());
    out.extend_from_slice(producer);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&checksum(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], EnvelopeError> {
        if self.bytes.len() < n {
            return Err(EnvelopeError::Truncated { what });
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, EnvelopeError> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, EnvelopeError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self, what: &'static str) -> Result<u64, EnvelopeError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
}

/// Decodes an envelope of kind `kind`, checking magic, version, length and
/// checksum before decoding the payload under the size limit.
pub fn decode<T: DeserializeOwned>(kind: Kind, bytes: &[u8]) -> Result<T, EnvelopeError> {
    let mut r = Reader { bytes };
    let magic = r
        .take(8, "magic number")
        .map_err(|_| EnvelopeError::NotThisKind {
            expected: kind.name,
        })?;
    if magic != kind.magic {
        return Err(EnvelopeError::NotThisKind {
            expected: kind.name,
        });
    }
    let version = r.u32("format version")?;
    let producer_len = r.u16("producer name")? as usize;
    let producer = String::from_utf8_lossy(r.take(producer_len, "producer name")?).into_owned();
    if version != kind.version {
        return Err(EnvelopeError::Version {
            kind: kind.name,
            found: version,
            expected: kind.version,
            producer,
        });
    }
    let declared = r.u64("payload length")?;
    if declared > MAX_PAYLOAD as u64 {
        return Err(EnvelopeError::TooLarge { size: declared });
    }
    let sum = r.u64("checksum")?;
    if r.bytes.len() as u64 != declared {
        return Err(EnvelopeError::LengthMismatch {
            declared,
            actual: r.bytes.len() as u64,
        });
    }
    if checksum(r.bytes) != sum {
        return Err(EnvelopeError::Checksum);
    }
    let (value, used) = bincode::serde::decode_from_slice(r.bytes, config())
        .map_err(|e| EnvelopeError::Decode(e.to_string()))?;
    if used != r.bytes.len() {
        return Err(EnvelopeError::Decode(format!(
            "{} trailing bytes",
            r.bytes.len() - used
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: Kind = Kind {
        name: "test",
        magic: *b"TESTFILE",
        version: 3,
    };

    #[test]
    fn round_trip_and_rejections() {
        let bytes = encode(KIND, "unit 1.0", &vec![1u32, 2, 3]).unwrap();
        assert_eq!(decode::<Vec<u32>>(KIND, &bytes), Ok(vec![1, 2, 3]));
        // truncated
        assert!(matches!(
            decode::<Vec<u32>>(KIND, &bytes[..bytes.len() - 1]),
            Err(EnvelopeError::LengthMismatch { .. })
        ));
        // flipped payload byte
        let mut bad = bytes.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(decode::<Vec<u32>>(KIND, &bad), Err(EnvelopeError::Checksum));
        // future version
        let future = Kind { version: 4, ..KIND };
        let newer = encode(future, "unit 9.9", &vec![1u32]).unwrap();
        assert!(matches!(
            decode::<Vec<u32>>(KIND, &newer),
            Err(EnvelopeError::Version { found: 4, .. })
        ));
        // wrong magic
        assert!(matches!(
            decode::<Vec<u32>>(KIND, b"NOTMAGIC"),
            Err(EnvelopeError::NotThisKind { .. })
        ));
        assert!(matches!(
            decode::<Vec<u32>>(KIND, b""),
            Err(EnvelopeError::NotThisKind { .. })
        ));
    }
}
