//! A Parquet source's claims checked against the file before anything is
//! allocated by their word.
//!
//! A Parquet footer says how many rows there are, where each column chunk
//! starts and how long it is; each page header says how large its data is
//! once decompressed. The reader we use (the `parquet` crate) trusts them:
//! it reserves `uncompressed_page_size` bytes for a page and asserts that
//! chunk offsets are not negative. A crafted file of a few hundred bytes
//! could thus make an import allocate gigabytes or panic. So, before
//! reading any column:
//!
//! - before the footer is even parsed (the crate sizes vectors by the
//!   list lengths it claims: a 20-byte footer could ask for gigabytes),
//!   it is walked here: every list and string must fit in its bytes, and
//!   every schema element has no more children than the schema has
//!   elements;
//! - the row counts are non-negative, add up, and stay within
//!   [`ImportLimits::max_rows`]; there are not more row groups than rows;
//! - every column chunk we read lies within the file;
//! - every page header in those chunks is walked (a minimal Thrift
//!   compact-protocol reader: the headers are a few dozen bytes each) and
//!   its sizes are checked: pages lie within their chunk, and the sum of
//!   what they decompress to stays within
//!   [`ImportLimits::decompressed_limit`] of the file's size — the same
//!   bound as a gzip source.

use crate::error::{DataError, Limit};
use crate::limits::ImportLimits;
use parquet::file::metadata::ParquetMetaData;

/// Walks the footer of the Parquet file in `bytes` (see the module doc).
pub(crate) fn check_footer(file: &str, bytes: &[u8]) -> Result<(), DataError> {
    let lie = |what: &str| DataError::file(file, format!("corrupt Parquet footer: {what}"));
    let n = bytes.len();
    if n < 12 || !bytes.ends_with(b"PAR1") {
        return Err(lie("the file does not end with one (PAR1)"));
    }
    let mut len = [0u8; 4];
    len.copy_from_slice(&bytes[n - 8..n - 4]);
    let len = usize::try_from(u32::from_le_bytes(len)).unwrap_or(usize::MAX);
    let start = (n - 8)
        .checked_sub(len)
        .filter(|&s| s >= 4)
        .ok_or_else(|| lie(&format!("{len} bytes long in a file of {n}")))?;
    Compact::new(&bytes[start..n - 8])
        .file_metadata()
        .map_err(lie)
}

/// Checks `meta` (parsed from a file of `file_len` bytes held in `bytes`)
/// for the columns `cols`.
pub(crate) fn check(
    file: &str,
    bytes: &[u8],
    meta: &ParquetMetaData,
    cols: &[usize],
    limits: &ImportLimits,
) -> Result<(), DataError> {
    let lie = |what: String| DataError::file(file, format!("corrupt Parquet footer: {what}"));
    let claimed = meta.file_metadata().num_rows();
    let rows = u64::try_from(claimed).map_err(|_| lie(format!("{claimed} rows")))?;
    if rows > limits.max_rows {
        return Err(DataError::too_large(
            file,
            Limit::Rows,
            limits.max_rows,
            format!("the Parquet footer declares {rows} rows, more than a dataset may hold"),
        ));
    }
    let groups = meta.num_row_groups() as u64;
    if groups > rows.saturating_add(1) {
        return Err(lie(format!("{groups} row groups for {rows} rows")));
    }
    let mut sum: u64 = 0;
    let file_len = bytes.len() as u64;
    let budget = limits.decompressed_limit(bytes.len());
    let mut inflated: u64 = 0;
    for (g, rg) in meta.row_groups().iter().enumerate() {
        let n = u64::try_from(rg.num_rows())
            .map_err(|_| lie(format!("row group {g} has {} rows", rg.num_rows())))?;
        sum = sum.saturating_add(n);
        for &c in cols {
            if c >= rg.num_columns() {
                return Err(lie(format!("row group {g} has no column {c}")));
            }
            let chunk = rg.column(c);
            let start = chunk
                .dictionary_page_offset()
                .unwrap_or_else(|| chunk.data_page_offset());
            let len = chunk.compressed_size();
            let (Ok(start), Ok(len)) = (u64::try_from(start), u64::try_from(len)) else {
                return Err(lie(format!(
                    "column chunk {g}/{c} at offset {start}, {len} bytes"
                )));
            };
            let end = start.checked_add(len).filter(|&e| e <= file_len);
            let Some(end) = end else {
                return Err(lie(format!(
                    "column chunk {g}/{c} ({len} bytes at {start}) lies beyond the file's \
                     {file_len} bytes"
                )));
            };
            // in range by the check above
            let (s, e) = (
                usize::try_from(start).unwrap_or(usize::MAX),
                usize::try_from(end).unwrap_or(usize::MAX),
            );
            inflated = inflated.saturating_add(walk_pages(file, &bytes[s..e], g, c)?);
            if inflated > budget {
                return Err(DataError::too_large(
                    file,
                    Limit::DecompressedBytes,
                    budget,
                    format!(
                        "Parquet pages decompress to more than {budget} bytes ({}× its {file_len} \
                         bytes, at least {}, at most {})",
                        limits.max_gzip_ratio,
                        limits.gzip_floor_bytes,
                        limits.max_decompressed_bytes
                    ),
                ));
            }
        }
    }
    if sum != rows {
        return Err(lie(format!(
            "row groups hold {sum} rows, the footer says {rows}"
        )));
    }
    Ok(())
}

/// Walks the page headers of one column chunk; the bytes its pages
/// decompress to.
fn walk_pages(file: &str, chunk: &[u8], g: usize, c: usize) -> Result<u64, DataError> {
    let lie = |what: String| {
        DataError::file(
            file,
            format!("corrupt Parquet page in column chunk {g}/{c}: {what}"),
        )
    };
    let mut pos = 0usize;
    let mut total: u64 = 0;
    while pos < chunk.len() {
        let mut r = Compact::new(&chunk[pos..]);
        let (uncompressed, compressed) = r.page_sizes().map_err(|e| lie(e.into()))?;
        let (Ok(u), Ok(len)) = (u64::try_from(uncompressed), usize::try_from(compressed)) else {
            return Err(lie(format!("sizes {uncompressed} / {compressed} bytes")));
        };
        let next = pos
            .checked_add(r.pos)
            .and_then(|p| p.checked_add(len))
            .filter(|&p| p <= chunk.len())
            .ok_or_else(|| lie(format!("a page of {compressed} bytes runs past its chunk")))?;
        total = total.saturating_add(u);
        pos = next;
    }
    Ok(total)
}

/// Deepest nesting of Thrift structs we follow (page headers nest 3 deep).
const MAX_DEPTH: u32 = 16;

/// Just enough of the Thrift compact protocol to find a page header's two
/// sizes and its length.
struct Compact<'a> {
    b: &'a [u8],
    pos: usize,
}

type R<T> = Result<T, &'static str>;

impl<'a> Compact<'a> {
    fn new(b: &'a [u8]) -> Self {
        Self { b, pos: 0 }
    }

    /// `(uncompressed_page_size, compressed_page_size)` (fields 2 and 3 of
    /// `PageHeader`), reading the whole header.
    fn page_sizes(&mut self) -> R<(i64, i64)> {
        let (mut u, mut c) = (None, None);
        let mut id: i16 = 0;
        while let Some((kind, fid)) = self.field_header(&mut id)? {
            match (fid, kind) {
                (2, 5) => u = Some(self.zigzag()?),
                (3, 5) => c = Some(self.zigzag()?),
                _ => self.skip(kind, 0)?,
            }
        }
        match (u, c) {
            (Some(u), Some(c)) => Ok((u, c)),
            _ => Err("a page header without its sizes"),
        }
    }

    /// Walks a `FileMetaData`, checking the schema's `num_children`.
    fn file_metadata(&mut self) -> R<()> {
        let mut id: i16 = 0;
        while let Some((kind, fid)) = self.field_header(&mut id)? {
            if (fid, kind) != (2, 9) {
                self.skip(kind, 0)?;
                continue;
            }
            let h = self.byte()?;
            let count = match h >> 4 {
                15 => self.varint()?,
                n => u64::from(n),
            };
            if h & 0x0f != 12 {
                return Err("the schema is not a list of elements");
            }
            for _ in 0..count {
                let mut eid: i16 = 0;
                while let Some((k, f)) = self.field_header(&mut eid)? {
                    if (f, k) == (5, 5) {
                        let children = self.zigzag()?;
                        if u64::try_from(children).map_or(true, |c| c >= count) {
                            return Err("a schema element with more children than the schema has");
                        }
                    } else {
                        self.skip(k, 1)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn byte(&mut self) -> R<u8> {
        let b = *self.b.get(self.pos).ok_or("truncated")?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> R<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("a varint longer than 10 bytes")
    }

    fn zigzag(&mut self) -> R<i64> {
        let v = self.varint()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    /// The next field's `(type, id)`, or `None` at the struct's end.
    fn field_header(&mut self, last: &mut i16) -> R<Option<(u8, i16)>> {
        let b = self.byte()?;
        if b == 0 {
            return Ok(None);
        }
        let delta = i16::from(b >> 4);
        let id = if delta == 0 {
            i16::try_from(self.zigzag()?).map_err(|_| "a field id out of range")?
        } else {
            last.checked_add(delta).ok_or("a field id out of range")?
        };
        *last = id;
        Ok(Some((b & 0x0f, id)))
    }

    fn advance(&mut self, n: u64) -> R<()> {
        let n = usize::try_from(n).map_err(|_| "a length out of range")?;
        let end = self.pos.checked_add(n).filter(|&e| e <= self.b.len());
        self.pos = end.ok_or("truncated")?;
        Ok(())
    }

    /// Skips one value of compact type `kind`.
    fn skip(&mut self, kind: u8, depth: u32) -> R<()> {
        if depth > MAX_DEPTH {
            return Err("page header nested too deeply");
        }
        match kind {
            1 | 2 => Ok(()),      // booleans live in the field header
            3 => self.advance(1), // byte
            4..=6 => self.varint().map(drop),
            7 => self.advance(8), // double
            8 => {
                let n = self.varint()?;
                self.advance(n)
            }
            9 | 10 => {
                let h = self.byte()?;
                let elem = h & 0x0f;
                let n = match h >> 4 {
                    15 => self.varint()?,
                    n => u64::from(n),
                };
                for _ in 0..n {
                    // every element is at least one byte: bounded by the input
                    if elem == 1 || elem == 2 {
                        self.advance(1)?;
                    } else {
                        self.skip(elem, depth + 1)?;
                    }
                }
                Ok(())
            }
            11 => {
                let n = self.varint()?;
                if n > 0 {
                    let kv = self.byte()?;
                    for _ in 0..n {
                        self.skip_elem(kv >> 4, depth)?;
                        self.skip_elem(kv & 0x0f, depth)?;
                    }
                }
                Ok(())
            }
            12 => {
                let mut id = 0;
                while let Some((k, _)) = self.field_header(&mut id)? {
                    self.skip(k, depth + 1)?;
                }
                Ok(())
            }
            _ => Err("an unknown Thrift type"),
        }
    }

    fn skip_elem(&mut self, kind: u8, depth: u32) -> R<()> {
        if kind == 1 || kind == 2 {
            self.advance(1)
        } else {
            self.skip(kind, depth + 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_page_headers_sizes_and_length() {
        // type=DATA_PAGE(0), uncompressed=100, compressed=40, then a
        // data_page_header struct {num_values=10, encoding=0, ...} and stop
        let h = [
            0x15, 0x00, // field 1 i32: 0
            0x15, 0xc8, 0x01, // field 2 i32: 100
            0x15, 0x50, // field 3 i32: 40
            0x2c, // field 5 struct
            0x15, 0x14, 0x15, 0x00, 0x00, // {1: 10, 2: 0}
            0x00, // stop
        ];
        let mut r = Compact::new(&h);
        assert_eq!(r.page_sizes(), Ok((100, 40)));
        assert_eq!(r.pos, h.len());
        assert!(Compact::new(&h[..4]).page_sizes().is_err());
    }

    #[test]
    fn a_footer_claiming_more_than_its_bytes_is_refused_before_parsing() {
        // FileMetaData {1: version 1, 2: schema list of 2^31 structs}
        let mut footer = vec![0x15, 0x02, 0x19, 0xfc, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00];
        let mut file = b"PAR1".to_vec();
        file.append(&mut footer.clone());
        file.extend_from_slice(&u32::try_from(footer.len()).unwrap().to_le_bytes());
        file.extend_from_slice(b"PAR1");
        let e = check_footer("f.parquet", &file).unwrap_err().to_string();
        assert_eq!(e, "f.parquet: corrupt Parquet footer: truncated");
        footer.clear();
        // a schema of one element claiming 1000 children
        let one = [0x15, 0x02, 0x19, 0x1c, 0x55, 0xd0, 0x0f, 0x00, 0x00];
        let mut file = b"PAR1".to_vec();
        file.extend_from_slice(&one);
        file.extend_from_slice(&9u32.to_le_bytes());
        file.extend_from_slice(b"PAR1");
        let e = check_footer("f.parquet", &file).unwrap_err().to_string();
        assert!(e.contains("more children"), "{e}");
    }
}
