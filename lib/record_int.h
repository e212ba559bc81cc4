/* record_int.h: internal to libbootmeta. */
#ifndef BM_RECORD_INT_H
#define BM_RECORD_INT_H

#include <protobuf-c/protobuf-c.h>

/* protobuf_c_message_unpack that tells a failed allocation from bad bytes (protobuf-c
 * answers NULL for both): 0 with *out set; BM_ENOMEM with the error set; BM_ECORRUPT with no
 * error set (the caller names the file). `alloc` as for protobuf-c (NULL: malloc); free
 * *out with protobuf_c_message_free_unpacked(*out, alloc). */
int bm__pb_unpack(ProtobufCMessage **out, const ProtobufCMessageDescriptor *d, ProtobufCAllocator *alloc,
		  const void *data, size_t len);

#endif
