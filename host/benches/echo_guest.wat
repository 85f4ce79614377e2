;; A waPC guest whose __guest_call host-calls wapc/echo/echo with its payload and returns
;; the host's answer: the guest side of the wapc and component benchmarks, no fixture build.
(module
  (import "wapc" "__guest_request" (func $guest_request (param i32 i32)))
  (import "wapc" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wapc" "__host_response_len" (func $host_response_len (result i32)))
  (import "wapc" "__host_response" (func $host_response (param i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (import "wapc" "__guest_error" (func $guest_error (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "wapc")
  (data (i32.const 8) "echo")
  (data (i32.const 16) "host call failed")
  (func (export "__guest_call") (param $op_len i32) (param $msg_len i32) (result i32)
    (call $guest_request (i32.const 1024) (i32.const 4096))
    (if (result i32)
      (call $host_call (i32.const 0) (i32.const 4) (i32.const 8) (i32.const 4)
                       (i32.const 8) (i32.const 4) (i32.const 4096) (local.get $msg_len))
      (then
        (call $host_response (i32.const 32768))
        (call $guest_response (i32.const 32768) (call $host_response_len))
        (i32.const 1))
      (else
        (call $guest_error (i32.const 16) (i32.const 16))
        (i32.const 0))))
)
