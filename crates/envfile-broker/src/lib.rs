//! placeholder: the broker helper writes this file
