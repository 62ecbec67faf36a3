//! The protobuf wire format: varints, tags and length-delimited values, read from a byte
//! slice with bounds checks and written to a `Vec<u8>`.
//!
//! Entry points: [`Reader`] for decoding and the `put_*` functions for encoding.

use thiserror::Error;

/// Wire type of a field, the low three bits of its tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireType {
    /// Type 0: a varint.
    Varint,
    /// Type 1: eight little-endian bytes.
    Fixed64,
    /// Type 2: a varint length followed by that many bytes.
    LengthDelimited,
    /// Type 3: start of a group (deprecated, only skipped).
    StartGroup,
    /// Type 4: end of a group.
    EndGroup,
    /// Type 5: four little-endian bytes.
    Fixed32,
}

impl WireType {
    fn from_bits(bits: u64) -> Option<Self> {
        match bits {
            0 => Some(Self::Varint),
            1 => Some(Self::Fixed64),
            2 => Some(Self::LengthDelimited),
            3 => Some(Self::StartGroup),
            4 => Some(Self::EndGroup),
            5 => Some(Self::Fixed32),
            _ => None,
        }
    }

    fn bits(self) -> u8 {
        match self {
            Self::Varint => 0,
            Self::Fixed64 => 1,
            Self::LengthDelimited => 2,
            Self::StartGroup => 3,
            Self::EndGroup => 4,
            Self::Fixed32 => 5,
        }
    }
}

/// Defect in the wire format at some offset.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// The input ends inside a value.
    #[error("unexpected end of input")]
    Truncated,
    /// A varint is longer than ten bytes or overflows 64 bits.
    #[error("varint overflows 64 bits")]
    VarintOverflow,
    /// A tag carries wire type 6 or 7.
    #[error("invalid wire type {0}")]
    InvalidWireType(u8),
    /// A tag carries field number 0 or one above 2^29 - 1.
    #[error("invalid field number {0}")]
    InvalidFieldNumber(u64),
    /// A group end tag without a matching start, or groups nested too deeply.
    #[error("unbalanced or too deeply nested group")]
    InvalidGroup,
}

/// Deepest group nesting [`Reader::skip`] follows.
const MAX_GROUP_DEPTH: usize = 64;

/// Reads protobuf values from a byte slice. Offsets in errors count from the start of the
/// whole body, so nested readers carry the offset where their slice begins.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading `buf`, whose first byte sits at `base` in the whole body.
    pub fn new(buf: &'a [u8], base: usize) -> Self {
        Self { buf, pos: 0, base }
    }

    /// Returns the offset of the next byte in the whole body.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Returns whether all bytes are consumed.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Reads a varint.
    ///
    /// # Errors
    /// [`WireError::Truncated`] or [`WireError::VarintOverflow`].
    pub fn varint(&mut self) -> Result<u64, WireError> {
        let mut value: u64 = 0;
        for index in 0..10 {
            let Some(&byte) = self.buf.get(self.pos) else {
                return Err(WireError::Truncated);
            };
            self.pos += 1;
            // The tenth byte may only carry the top bit of a 64-bit value.
            if index == 9 && byte > 1 {
                return Err(WireError::VarintOverflow);
            }
            value |= u64::from(byte & 0x7f) << (7 * index);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(WireError::VarintOverflow)
    }

    /// Reads a tag and returns its field number and wire type.
    ///
    /// # Errors
    /// A [`WireError`] for a malformed varint, wire type 6 or 7, or an out-of-range field
    /// number.
    pub fn tag(&mut self) -> Result<(u32, WireType), WireError> {
        let key = self.varint()?;
        let wire_type =
            WireType::from_bits(key & 7).ok_or(WireError::InvalidWireType((key & 7) as u8))?;
        let number = key >> 3;
        if number == 0 || number > (1 << 29) - 1 {
            return Err(WireError::InvalidFieldNumber(number));
        }
        Ok((number as u32, wire_type))
    }

    /// Reads eight little-endian bytes.
    ///
    /// # Errors
    /// [`WireError::Truncated`].
    pub fn fixed64(&mut self) -> Result<u64, WireError> {
        let bytes = self.take(8)?;
        let mut array = [0u8; 8];
        array.copy_from_slice(bytes);
        Ok(u64::from_le_bytes(array))
    }

    /// Reads a length-delimited value and returns a reader over it.
    ///
    /// # Errors
    /// [`WireError::Truncated`] when the length runs past the end.
    pub fn length_delimited(&mut self) -> Result<Reader<'a>, WireError> {
        let length = self.varint()?;
        let length = usize::try_from(length).map_err(|_| WireError::Truncated)?;
        let start = self.offset();
        let bytes = self.take(length)?;
        Ok(Reader::new(bytes, start))
    }

    /// Returns the unread bytes and consumes them.
    pub fn rest(&mut self) -> &'a [u8] {
        let rest = &self.buf[self.pos.min(self.buf.len())..];
        self.pos = self.buf.len();
        rest
    }

    /// Skips the value of a field with this wire type, as protobuf does for unknown
    /// fields.
    ///
    /// # Errors
    /// A [`WireError`] when the value is truncated or a group is unbalanced.
    pub fn skip(&mut self, wire_type: WireType) -> Result<(), WireError> {
        match wire_type {
            WireType::Varint => self.varint().map(drop),
            WireType::Fixed64 => self.take(8).map(drop),
            WireType::Fixed32 => self.take(4).map(drop),
            WireType::LengthDelimited => self.length_delimited().map(drop),
            WireType::EndGroup => Err(WireError::InvalidGroup),
            WireType::StartGroup => self.skip_group(),
        }
    }

    fn skip_group(&mut self) -> Result<(), WireError> {
        let mut depth = 1usize;
        while depth > 0 {
            let (_, wire_type) = self.tag()?;
            match wire_type {
                WireType::StartGroup => {
                    depth += 1;
                    if depth > MAX_GROUP_DEPTH {
                        return Err(WireError::InvalidGroup);
                    }
                }
                WireType::EndGroup => depth -= 1,
                other => self.skip(other)?,
            }
        }
        Ok(())
    }

    fn take(&mut self, length: usize) -> Result<&'a [u8], WireError> {
        let end = self.pos.checked_add(length).ok_or(WireError::Truncated)?;
        let bytes = self.buf.get(self.pos..end).ok_or(WireError::Truncated)?;
        self.pos = end;
        Ok(bytes)
    }
}

/// Appends a varint.
pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends a tag.
pub fn put_tag(out: &mut Vec<u8>, number: u32, wire_type: WireType) {
    put_varint(out, (u64::from(number) << 3) | u64::from(wire_type.bits()));
}

/// Appends a length-delimited field.
pub fn put_bytes(out: &mut Vec<u8>, number: u32, bytes: &[u8]) {
    put_tag(out, number, WireType::LengthDelimited);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Appends a varint field.
pub fn put_varint_field(out: &mut Vec<u8>, number: u32, value: u64) {
    put_tag(out, number, WireType::Varint);
    put_varint(out, value);
}

/// Appends a fixed64 field.
pub fn put_fixed64_field(out: &mut Vec<u8>, number: u32, value: u64) {
    put_tag(out, number, WireType::Fixed64);
    out.extend_from_slice(&value.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trip() {
        for value in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            let mut reader = Reader::new(&out, 0);
            assert_eq!(reader.varint(), Ok(value), "value {value}");
            assert!(reader.is_empty());
        }
    }

    #[test]
    fn varint_errors() {
        let cases: &[(&[u8], WireError)] = &[
            (&[], WireError::Truncated),
            (&[0x80], WireError::Truncated),
            (&[0xff; 10], WireError::VarintOverflow),
            (
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
                WireError::VarintOverflow,
            ),
        ];
        for (bytes, expected) in cases {
            assert_eq!(
                Reader::new(bytes, 0).varint(),
                Err(expected.clone()),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn tag_rejects_bad_keys() {
        let cases: &[(&[u8], WireError)] = &[
            (&[0x06], WireError::InvalidWireType(6)),
            (&[0x07], WireError::InvalidWireType(7)),
            (&[0x02], WireError::InvalidFieldNumber(0)),
        ];
        for (bytes, expected) in cases {
            assert_eq!(
                Reader::new(bytes, 0).tag(),
                Err(expected.clone()),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn length_delimited_checks_bounds() {
        let mut reader = Reader::new(&[0x05, 1, 2], 10);
        assert_eq!(
            reader.length_delimited().map(|r| r.offset()),
            Err(WireError::Truncated)
        );

        let mut reader = Reader::new(&[0x02, 1, 2, 3], 10);
        let inner = reader.length_delimited().expect("two bytes fit");
        assert_eq!(inner.offset(), 11);
        assert_eq!(reader.offset(), 13);
    }

    #[test]
    fn skip_handles_every_wire_type() {
        // varint 150, fixed64, length 2, group {varint}, fixed32, then a varint field 15.
        let bytes = [
            0x08, 0x96, 0x01, // field 1 varint
            0x11, 1, 2, 3, 4, 5, 6, 7, 8, // field 2 fixed64
            0x1a, 0x02, 0xaa, 0xbb, // field 3 bytes
            0x23, 0x08, 0x01, 0x24, // field 4 group containing field 1 varint
            0x2d, 1, 2, 3, 4, // field 5 fixed32
            0x78, 0x07, // field 15 varint 7
        ];
        let mut reader = Reader::new(&bytes, 0);
        for expected in 1..=5 {
            let (number, wire_type) = reader.tag().expect("tag");
            assert_eq!(number, expected);
            reader.skip(wire_type).expect("skip");
        }
        assert_eq!(reader.tag(), Ok((15, WireType::Varint)));
        assert_eq!(reader.varint(), Ok(7));
    }

    #[test]
    fn skip_rejects_lone_group_end() {
        let mut reader = Reader::new(&[], 0);
        assert_eq!(
            reader.skip(WireType::EndGroup),
            Err(WireError::InvalidGroup)
        );
    }
}
