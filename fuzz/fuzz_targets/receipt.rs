//! Delivery receipts: any short_message and TLV values parse or are refused,
//! never panic; ids normalize in every format.
#![no_main]

use carrier_protocol::receipt::{IdFormat, Receipt, ReceiptTlvs, normalize};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Receipt::parse(data);
    let (head, tail) = data.split_at(data.len().min(8));
    let tlvs = ReceiptTlvs {
        receipted_message_id: head.first().map(|_| head),
        message_state: tail.first().copied(),
        network_error_code: tail.first_chunk::<3>().copied(),
    };
    if let Ok(receipt) = Receipt::from_deliver_sm(tail, tlvs) {
        let _ = receipt.into_owned();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        for format in [
            IdFormat::Verbatim,
            IdFormat::Exact,
            IdFormat::Decimal,
            IdFormat::Hex,
            IdFormat::Auto,
        ] {
            let _ = normalize(text, format);
        }
    }
});
