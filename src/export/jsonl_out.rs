//! JSON Lines for scripts: one object per tip and line, keyed by the column ids in column
//! order; numbers and booleans as JSON numbers and booleans, missing values as `null`, times
//! as RFC 3339 with the local offset (`2026-11-23T08:15:00+07:00`).

use std::io::{BufWriter, Write};

use chrono::SecondsFormat;
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::ExportError;
use super::columns::{Cell, Col};
use super::row::Row;

/// A JSON Lines export in progress.
pub(crate) struct JsonlSink<'a> {
    out: BufWriter<Box<dyn Write + Send + 'a>>,
    cols: &'static [Col],
}

impl<'a> JsonlSink<'a> {
    /// Starts an export; JSON Lines has no header.
    pub(crate) fn new(out: Box<dyn Write + Send + 'a>, cols: &'static [Col]) -> Self {
        JsonlSink {
            out: BufWriter::new(out),
            cols,
        }
    }

    /// Writes one row as one line.
    pub(crate) fn write(&mut self, row: &Row) -> Result<(), ExportError> {
        serde_json::to_writer(
            &mut self.out,
            &JsonRow {
                row,
                cols: self.cols,
            },
        )?;
        self.out.write_all(b"\n")?;
        Ok(())
    }

    /// Flushes everything to the output.
    pub(crate) fn finish(self) -> Result<(), ExportError> {
        let mut inner = self.out.into_inner().map_err(|e| e.into_error())?;
        inner.flush()?;
        Ok(())
    }
}

struct JsonRow<'r> {
    row: &'r Row,
    cols: &'static [Col],
}

impl Serialize for JsonRow<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.cols.len()))?;
        for col in self.cols {
            map.serialize_entry(col.id(), &JsonCell(self.row.cell(*col)))?;
        }
        map.end()
    }
}

struct JsonCell<'a>(Cell<'a>);

impl Serialize for JsonCell<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Cell::Text(s) => serializer.serialize_str(s),
            Cell::Time(t) => {
                serializer.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Secs, false))
            }
            Cell::Minutes(m) => serializer.serialize_f64(m),
            Cell::Count(n) => serializer.serialize_u64(n),
            Cell::Bool(b) => serializer.serialize_bool(b),
            Cell::Empty => serializer.serialize_none(),
        }
    }
}
