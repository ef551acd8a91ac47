//! CTAPHID over UDP (to be written).
