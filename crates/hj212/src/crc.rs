//! The standard's CRC16 (its appendix): the register starts at 0xFFFF; for each byte it is
//! shifted right by eight and XORed with the byte, then shifted right eight times, XORed with
//! 0xA001 whenever the bit shifted out was set. (Not CRC-16/MODBUS, which XORs the byte into the
//! register without the first shift.)

pub fn crc16(data: &[u8]) -> u16 {
    let mut reg: u16 = 0xFFFF;
    for &b in data {
        reg = (reg >> 8) ^ u16::from(b);
        for _ in 0..8 {
            let out = reg & 1;
            reg >>= 1;
            if out == 1 {
                reg ^= 0xA001;
            }
        }
    }
    reg
}
