//! The `--record` file: one JSON line per accepted submit, so a test can
//! check exactly what reached the "carrier" (encoding, UDH, SAR, addresses)
//! after the gateway under test has finished; and the `--record-binds`
//! file: one line per bind request, so a test can check how the ESME binds
//! (its `interface_version`) and how often it tries.
//!
//! Each connection formats its lines into a private buffer while it
//! processes an inbound batch and appends the buffer to the file in one
//! `write` before that batch's responses go out on the socket. So when the
//! ESME has seen a `submit_sm_resp`, the line of that submit is already in
//! the file (in the page cache, which is what a reader in the same machine
//! sees); and lines of one connection never interleave with another's
//! mid-line, because the file is opened for appending and written whole
//! lines at a time under a lock.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::Mutex;

use carrier_protocol::hex;
use carrier_protocol::segment::parse_udh;
use carrier_protocol::smpp::{COctetString, DataCoding, EsmClass, RegisteredDelivery, Tlvs};

/// The shared file.
#[derive(Debug)]
pub(crate) struct RecordSink {
    file: Mutex<File>,
}

impl RecordSink {
    /// Opens (creating if needed) `path` for appending.
    pub(crate) fn open(path: &Path) -> io::Result<RecordSink> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(RecordSink {
            file: Mutex::new(file),
        })
    }

    /// Appends `lines` (whole lines) in one write.
    pub(crate) fn append(&self, lines: &[u8]) -> io::Result<()> {
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        file.write_all(lines)
    }
}

/// What a record line says about one accepted submit.
#[derive(Debug)]
pub(crate) struct SubmitRecord<'a> {
    pub message_id: &'a [u8],
    pub command: &'static str,
    pub system_id: &'a [u8],
    pub source_addr: &'a COctetString,
    /// (TON, NPI) of `source_addr`.
    pub source_ton_npi: (u8, u8),
    pub destination_addr: &'a COctetString,
    /// (TON, NPI) of `destination_addr`.
    pub dest_ton_npi: (u8, u8),
    pub data_coding: DataCoding,
    pub esm_class: EsmClass,
    pub registered_delivery: RegisteredDelivery,
    /// `short_message`, or `message_payload` when that carries the text.
    pub content: &'a [u8],
    pub tlvs: &'a Tlvs,
    pub conn: u64,
    pub at_ms: u64,
}

/// Appends `s` as a JSON string (lossy UTF-8).
fn push_json_str(out: &mut Vec<u8>, bytes: &[u8]) {
    let s = String::from_utf8_lossy(bytes);
    if serde_json::to_writer(&mut *out, s.as_ref()).is_err() {
        // Writing to a Vec cannot fail; keep the line valid JSON regardless.
        out.extend_from_slice(b"null");
    }
}

fn push_triple(out: &mut Vec<u8>, triple: Option<(u16, u8, u8)>) {
    match triple {
        Some((reference, total, seq)) => {
            out.extend_from_slice(format!("[{reference},{total},{seq}]").as_bytes());
        }
        None => out.extend_from_slice(b"null"),
    }
}

impl SubmitRecord<'_> {
    /// The UDH concatenation element, when UDHI is set and the UDH parses.
    fn udh_concat(&self) -> Option<(u16, u8, u8)> {
        if !self.esm_class.udhi() {
            return None;
        }
        let (udh, _) = parse_udh(self.content).ok()?;
        let c = udh.concat()?;
        Some((c.reference, c.total, c.seq))
    }

    /// Appends the JSON line (with its newline) to `out`.
    pub(crate) fn write_line(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"message_id\":");
        push_json_str(out, self.message_id);
        out.extend_from_slice(b",\"command\":");
        push_json_str(out, self.command.as_bytes());
        out.extend_from_slice(b",\"system_id\":");
        push_json_str(out, self.system_id);
        out.extend_from_slice(b",\"source_addr\":");
        push_json_str(out, self.source_addr.as_bytes());
        out.extend_from_slice(b",\"destination_addr\":");
        push_json_str(out, self.destination_addr.as_bytes());
        out.extend_from_slice(
            format!(
                ",\"source_addr_ton\":{},\"source_addr_npi\":{},\"dest_addr_ton\":{},\"dest_addr_npi\":{}",
                self.source_ton_npi.0,
                self.source_ton_npi.1,
                self.dest_ton_npi.0,
                self.dest_ton_npi.1,
            )
            .as_bytes(),
        );
        out.extend_from_slice(
            format!(
                ",\"data_coding\":{},\"esm_class\":{},\"registered_delivery\":{},\"short_message_hex\":\"{}\",\"sar\":",
                self.data_coding.value(),
                self.esm_class.0,
                self.registered_delivery.0,
                hex::encode(self.content),
            )
            .as_bytes(),
        );
        push_triple(out, self.tlvs.sar());
        out.extend_from_slice(b",\"udh_concat\":");
        push_triple(out, self.udh_concat());
        out.extend_from_slice(
            format!(",\"conn\":{},\"at_ms\":{}}}\n", self.conn, self.at_ms).as_bytes(),
        );
    }
}

/// What a bind record line says about one bind request.
#[derive(Debug)]
pub(crate) struct BindRecord<'a> {
    /// `"bind_transceiver"`, `"bind_receiver"` or `"bind_transmitter"`.
    pub command: &'static str,
    pub system_id: &'a [u8],
    pub interface_version: u8,
    /// `"accepted"`, `"rejected"` or `"stalled"`.
    pub outcome: &'static str,
    pub conn: u64,
    pub at_ms: u64,
}

impl BindRecord<'_> {
    /// The JSON line, with its newline.
    pub(crate) fn line(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(b"{\"command\":");
        push_json_str(&mut out, self.command.as_bytes());
        out.extend_from_slice(b",\"system_id\":");
        push_json_str(&mut out, self.system_id);
        out.extend_from_slice(
            format!(
                ",\"interface_version\":{},\"outcome\":\"{}\",\"conn\":{},\"at_ms\":{}}}\n",
                self.interface_version, self.outcome, self.conn, self.at_ms
            )
            .as_bytes(),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use carrier_protocol::smpp::{Tlv, TlvTag};

    use super::*;

    #[test]
    fn line_is_json_with_every_field() {
        let src = COctetString::try_from("15551230001").expect("no NUL");
        let dst = COctetString::try_from("15557654321").expect("no NUL");
        let mut tlvs = Tlvs::new();
        tlvs.push(Tlv::u16(TlvTag::SarMsgRefNum, 513));
        tlvs.push(Tlv::u8(TlvTag::SarTotalSegments, 3));
        tlvs.push(Tlv::u8(TlvTag::SarSegmentSeqnum, 2));
        let content = [0x05, 0x00, 0x03, 0x2a, 0x03, 0x02, b'h', b'i'];
        let rec = SubmitRecord {
            message_id: b"00000000000000ff",
            command: "submit_sm",
            system_id: b"gw\"1",
            source_addr: &src,
            source_ton_npi: (1, 1),
            destination_addr: &dst,
            dest_ton_npi: (3, 0),
            data_coding: DataCoding::Ucs2,
            esm_class: EsmClass(0x40),
            registered_delivery: RegisteredDelivery(1),
            content: &content,
            tlvs: &tlvs,
            conn: 7,
            at_ms: 1234,
        };
        let mut out = Vec::new();
        rec.write_line(&mut out);
        assert_eq!(out.last(), Some(&b'\n'));
        let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(v["message_id"], "00000000000000ff");
        assert_eq!(v["system_id"], "gw\"1");
        assert_eq!(v["source_addr"], "15551230001");
        assert_eq!(v["destination_addr"], "15557654321");
        assert_eq!(v["source_addr_ton"], 1);
        assert_eq!(v["source_addr_npi"], 1);
        assert_eq!(v["dest_addr_ton"], 3);
        assert_eq!(v["dest_addr_npi"], 0);
        assert_eq!(v["data_coding"], 8);
        assert_eq!(v["esm_class"], 64);
        assert_eq!(v["short_message_hex"], "0500032a03026869");
        assert_eq!(v["sar"], serde_json::json!([513, 3, 2]));
        assert_eq!(v["udh_concat"], serde_json::json!([42, 3, 2]));
        assert_eq!(v["conn"], 7);
        assert_eq!(v["at_ms"], 1234);
    }

    #[test]
    fn bind_line_is_json() {
        let line = BindRecord {
            command: "bind_transceiver",
            system_id: b"gw",
            interface_version: 0x50,
            outcome: "stalled",
            conn: 3,
            at_ms: 99,
        }
        .line();
        let v: serde_json::Value = serde_json::from_slice(&line).expect("valid JSON");
        assert_eq!(v["command"], "bind_transceiver");
        assert_eq!(v["system_id"], "gw");
        assert_eq!(v["interface_version"], 80);
        assert_eq!(v["outcome"], "stalled");
        assert_eq!(
            (v["conn"].as_u64(), v["at_ms"].as_u64()),
            (Some(3), Some(99))
        );
    }

    #[test]
    fn sink_appends_whole_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("rec.jsonl");
        let sink = RecordSink::open(&path).expect("open");
        sink.append(b"{\"a\":1}\n").expect("write");
        let again = RecordSink::open(&path).expect("reopen appends");
        again.append(b"{\"a\":2}\n").expect("write");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text.lines().count(), 2);
    }
}
