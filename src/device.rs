//! Opening a device selection (hid, udp, sim) as a transport (to be written).
