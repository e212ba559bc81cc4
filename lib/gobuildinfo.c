/* gobuildinfo.c: read the build information the Go toolchain embeds in every binary (what
 * `go version -m` prints): Go version, main package and module, dependencies with their
 * replacements, and build settings (vcs.revision, -ldflags ...).
 *
 * Layout (Go's debug/buildinfo): a 32-byte header at a 16-byte aligned address in the data
 * segment (ELF section .go.buildinfo): the 14-byte magic "\xff Go buildinf:", the pointer
 * size, a flags byte (1: big endian, 2: strings inline). Go 1.18+ puts the version and the
 * modinfo right after the header, each as a uvarint length and the bytes; older toolchains
 * store two pointers to Go string headers instead. The modinfo text is wrapped in two
 * 16-byte sentinels; it is tab-separated lines, see parse_modinfo().
 *
 * Every read goes through `struct src` (memory or a file descriptor) and is bounded by the
 * size of the input: a length or address past the end is BM_ECORRUPT, never a read past it.
 * A file is never loaded whole: headers, the data segment's first 64 KiB and the strings are
 * read where they are, and the fallback scan streams 1 MiB chunks. */
#define _GNU_SOURCE /* memmem */
#include "bootmeta/buildinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GO_MAGIC "\xff Go buildinf:"
#define GO_MAGIC_LEN 14
#define GO_HEADER_SIZE 32
#define GO_ALIGN 16
#define DATA_SEARCH (64u * 1024u)
#define SCAN_CHUNK (1024u * 1024u)
#define MAX_PROGS 4096u

struct src {
	const unsigned char *mem;  /* memory input, or NULL for fd */
	int fd;
	uint64_t size;
	const char *name;          /* for messages */
};

struct prog {
	uint64_t vaddr, offset, filesz;
};

struct elf {
	int is64, big;
	struct prog *progs;
	size_t prog_count;
	int has_data;              /* data_off/data_size found (section or segment) */
	uint64_t data_off, data_size;
};

/* Read up to n bytes at off; *got is how many (fewer only at the end of the input). */
static int src_read(struct src *s, void *buf, size_t n, uint64_t off, size_t *got)
{
	size_t done_n = 0;
	*got = 0;
	if (off >= s->size)
		return 0;
	if (n > s->size - off)
		n = (size_t)(s->size - off);
	if (s->mem) {
		memcpy(buf, s->mem + off, n);
		*got = n;
		return 0;
	}
	while (done_n < n) {
		ssize_t r = pread(s->fd, (char *)buf + done_n, n - done_n, (off_t)(off + done_n));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return bm_error_set(BM_EIO, "reading %s: %s", s->name, strerror(errno));
		}
		if (r == 0)
			break;
		done_n += (size_t)r;
	}
	*got = done_n;
	return 0;
}

static uint64_t get_uint(const unsigned char *p, size_t n, int big)
{
	uint64_t v = 0;
	size_t i;
	for (i = 0; i < n; i++)
		v |= (uint64_t)p[big ? n - 1 - i : i] << (8 * i);
	return v;
}

static int corrupt(struct src *s, const char *fmt, ...) BM_PRINTF(2, 3);
static int corrupt(struct src *s, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return bm_error_set(BM_ECORRUPT, "Go build info in %s: %s; the file is truncated or "
			    "damaged", s->name, what);
}

/* ---- ELF ---- */

/* Fill `e` from the ELF headers; 1 when the input is a usable ELF file, 0 when not ELF (or
 * its headers are out of bounds: the caller falls back to a scan). */
static int elf_load(struct elf *e, struct src *s)
{
	unsigned char h[64], ent[64];
	uint64_t phoff, shoff;
	unsigned int phentsize, phnum, shentsize, shnum, shstrndx, i;
	size_t got;
	int error;

	memset(e, 0, sizeof(*e));
	if ((error = src_read(s, h, sizeof(h), 0, &got)) < 0)
		return error;
	if (got < 52 || memcmp(h, "\x7f" "ELF", 4) != 0 || (h[4] != 1 && h[4] != 2) || (h[5] != 1 && h[5] != 2))
		return 0;
	e->is64 = h[4] == 2;
	e->big = h[5] == 2;
	if (e->is64 && got < 64)
		return 0;
	if (e->is64) {
		phoff = get_uint(h + 0x20, 8, e->big);
		shoff = get_uint(h + 0x28, 8, e->big);
		phentsize = (unsigned)get_uint(h + 0x36, 2, e->big);
		phnum = (unsigned)get_uint(h + 0x38, 2, e->big);
		shentsize = (unsigned)get_uint(h + 0x3a, 2, e->big);
		shnum = (unsigned)get_uint(h + 0x3c, 2, e->big);
		shstrndx = (unsigned)get_uint(h + 0x3e, 2, e->big);
	} else {
		phoff = get_uint(h + 0x1c, 4, e->big);
		shoff = get_uint(h + 0x20, 4, e->big);
		phentsize = (unsigned)get_uint(h + 0x2a, 2, e->big);
		phnum = (unsigned)get_uint(h + 0x2c, 2, e->big);
		shentsize = (unsigned)get_uint(h + 0x2e, 2, e->big);
		shnum = (unsigned)get_uint(h + 0x30, 2, e->big);
		shstrndx = (unsigned)get_uint(h + 0x32, 2, e->big);
	}

	/* Program headers: address -> file offset, and the first writable, non-executable
	 * PT_LOAD as the data segment when there is no .go.buildinfo section. */
	if (phentsize >= (e->is64 ? 56u : 32u) && phentsize <= sizeof(ent) && phnum > 0 &&
	    phoff < s->size && (uint64_t)phnum * phentsize <= s->size - phoff) {
		if (phnum > MAX_PROGS)
			phnum = MAX_PROGS;
		if (!(e->progs = calloc(phnum, sizeof(*e->progs))))
			return bm_error_set(BM_ENOMEM, "out of memory");
		for (i = 0; i < phnum; i++) {
			uint32_t type, flags;
			struct prog *p = &e->progs[e->prog_count];
			if ((error = src_read(s, ent, phentsize, phoff + (uint64_t)i * phentsize, &got)) < 0)
				return error;
			if (got < phentsize)
				break;
			type = (uint32_t)get_uint(ent, 4, e->big);
			if (e->is64) {
				flags = (uint32_t)get_uint(ent + 4, 4, e->big);
				p->offset = get_uint(ent + 8, 8, e->big);
				p->vaddr = get_uint(ent + 16, 8, e->big);
				p->filesz = get_uint(ent + 32, 8, e->big);
			} else {
				p->offset = get_uint(ent + 4, 4, e->big);
				p->vaddr = get_uint(ent + 8, 4, e->big);
				p->filesz = get_uint(ent + 16, 4, e->big);
				flags = (uint32_t)get_uint(ent + 24, 4, e->big);
			}
			if (p->filesz == 0)
				continue;
			if (type == 1 /* PT_LOAD */ && (flags & 3) == 2 /* PF_W, not PF_X */ && !e->has_data) {
				e->has_data = 1;
				e->data_off = p->offset;
				e->data_size = p->filesz;
			}
			e->prog_count++;
		}
	}

	/* Section headers: .go.buildinfo wins over the segment guess. */
	if (shentsize >= (e->is64 ? 64u : 40u) && shentsize <= sizeof(ent) && shnum > 0 && shstrndx < shnum &&
	    shoff < s->size && (uint64_t)shnum * shentsize <= s->size - shoff) {
		uint64_t str_off, str_size;
		if ((error = src_read(s, ent, shentsize, shoff + (uint64_t)shstrndx * shentsize, &got)) < 0)
			return error;
		str_off = get_uint(ent + (e->is64 ? 24 : 16), e->is64 ? 8 : 4, e->big);
		str_size = get_uint(ent + (e->is64 ? 32 : 20), e->is64 ? 8 : 4, e->big);
		for (i = 0; i < shnum; i++) {
			char name[16];
			uint64_t name_off, type, off, size;
			if ((error = src_read(s, ent, shentsize, shoff + (uint64_t)i * shentsize, &got)) < 0)
				return error;
			name_off = get_uint(ent, 4, e->big);
			type = get_uint(ent + 4, 4, e->big);
			off = get_uint(ent + (e->is64 ? 24 : 16), e->is64 ? 8 : 4, e->big);
			size = get_uint(ent + (e->is64 ? 32 : 20), e->is64 ? 8 : 4, e->big);
			if (name_off >= str_size || str_size - name_off < 14)
				continue;
			if ((error = src_read(s, name, 14, str_off + name_off, &got)) < 0)
				return error;
			if (got == 14 && memcmp(name, ".go.buildinfo", 14) == 0 && type != 8 /* SHT_NOBITS */) {
				e->has_data = 1;
				e->data_off = off;
				e->data_size = size;
				break;
			}
		}
	}
	return 1;
}

/* Map a virtual address to a file offset with at least `n` bytes of file data behind it. */
static int elf_addr(const struct elf *e, uint64_t addr, uint64_t n, uint64_t *off)
{
	size_t i;
	for (i = 0; i < e->prog_count; i++) {
		const struct prog *p = &e->progs[i];
		if (addr >= p->vaddr && addr - p->vaddr < p->filesz) {
			if (p->filesz - (addr - p->vaddr) < n)
				return 0;
			*off = p->offset + (addr - p->vaddr);
			return 1;
		}
	}
	return 0;
}

/* ---- finding the header ---- */

/* Search [off, off+len) of the input for the magic at offsets aligned to GO_ALIGN relative
 * to `align_base`; *found = 1 and *at set when present. Streams in chunks. */
static int scan(struct src *s, uint64_t off, uint64_t len, uint64_t align_base, int *found, uint64_t *at)
{
	unsigned char *buf;
	uint64_t end, pos;
	int error = 0;

	*found = 0;
	if (off >= s->size)
		return 0;
	end = (len > s->size - off) ? s->size : off + len;
	if (s->mem) {
		/* Memory: search in place. */
		for (pos = off; pos + GO_MAGIC_LEN <= end; ) {
			const unsigned char *hit = memmem(s->mem + pos, (size_t)(end - pos), GO_MAGIC, GO_MAGIC_LEN);
			uint64_t h;
			if (!hit)
				return 0;
			h = (uint64_t)(hit - s->mem);
			if ((h - align_base) % GO_ALIGN == 0) {
				*found = 1;
				*at = h;
				return 0;
			}
			pos = h + 1;
		}
		return 0;
	}
	if (!(buf = malloc(SCAN_CHUNK)))
		return bm_error_set(BM_ENOMEM, "out of memory");
	/* Chunks overlap by GO_MAGIC_LEN - 1 so a magic across a boundary is seen. */
	for (pos = off; pos < end; ) {
		size_t want = (size_t)((end - pos) < SCAN_CHUNK ? (end - pos) : SCAN_CHUNK), got, i;
		const unsigned char *p;
		if ((error = src_read(s, buf, want, pos, &got)) < 0)
			goto done;
		for (p = buf; got >= GO_MAGIC_LEN && (size_t)(buf + got - p) >= GO_MAGIC_LEN; p++) {
			const unsigned char *hit = memmem(p, (size_t)(buf + got - p), GO_MAGIC, GO_MAGIC_LEN);
			uint64_t h;
			if (!hit)
				break;
			h = pos + (uint64_t)(hit - buf);
			if ((h - align_base) % GO_ALIGN == 0) {
				*found = 1;
				*at = h;
				goto done;
			}
			p = hit;
		}
		if (got < want || pos + got >= end)
			break;
		i = got > GO_MAGIC_LEN - 1 ? got - (GO_MAGIC_LEN - 1) : got;
		pos += i;
	}
done:
	free(buf);
	return error;
}

static int find_header(struct src *s, struct elf *e, int *is_elf, uint64_t *at)
{
	int error, found = 0;
	if ((error = elf_load(e, s)) < 0)
		return error;
	*is_elf = error;
	if (*is_elf && e->has_data) {
		if ((error = scan(s, e->data_off, e->data_size < DATA_SEARCH ? e->data_size : DATA_SEARCH,
				  e->data_off, &found, at)) < 0)
			return error;
		if (found)
			return 0;
	}
	if ((error = scan(s, 0, s->size, 0, &found, at)) < 0)
		return error;
	if (!found)
		return bm_error_set(BM_ENOTFOUND, "%s is not a Go binary: no Go build info "
				    "(\\xff Go buildinf:) in it%s", s->name,
				    *is_elf ? "" : " (and it is not an ELF file)");
	return 0;
}

/* ---- strings ---- */

static int read_string(struct src *s, uint64_t off, size_t len, char **out)
{
	char *p;
	size_t got;
	int error;
	if (!(p = malloc(len + 1)))
		return bm_error_set(BM_ENOMEM, "out of memory");
	if ((error = src_read(s, p, len, off, &got)) < 0) {
		free(p);
		return error;
	}
	if (got < len) {
		free(p);
		return corrupt(s, "a string of %llu bytes at offset %llu runs past the end of the file",
			       (unsigned long long)len, (unsigned long long)off);
	}
	p[len] = '\0';
	*out = p;
	return 0;
}

/* A uvarint-length-prefixed string at *off (Go 1.18+); advances *off past it. */
static int read_inline_string(struct src *s, uint64_t *off, char **out, size_t *out_len)
{
	unsigned char v[10];
	uint64_t len = 0;
	size_t got, i;
	int error;
	if ((error = src_read(s, v, sizeof(v), *off, &got)) < 0)
		return error;
	for (i = 0; i < got; i++) {
		if (i == 9 && v[i] > 1)
			return corrupt(s, "a string length at offset %llu overflows", (unsigned long long)*off);
		len |= (uint64_t)(v[i] & 0x7f) << (7 * i);
		if (!(v[i] & 0x80))
			break;
	}
	if (i == got)
		return corrupt(s, "the header at offset %llu ends inside a string length", (unsigned long long)*off);
	if (len > BM_GOBUILDINFO_MAX_STRING)
		return corrupt(s, "a string length of %llu bytes (at offset %llu) is over the bound",
			       (unsigned long long)len, (unsigned long long)*off);
	if (len > s->size - (*off + i + 1))
		return corrupt(s, "a string length of %llu bytes (at offset %llu) runs past the end of the file",
			       (unsigned long long)len, (unsigned long long)*off);
	*off += i + 1;
	if ((error = read_string(s, *off, (size_t)len, out)) < 0)
		return error;
	*off += len;
	*out_len = (size_t)len;
	return 0;
}

/* The pre-1.18 format: a pointer to a Go string header {data pointer, length}. */
static int read_pointer_string(struct src *s, const struct elf *e, uint64_t ptr, int ptr_size, int big,
			       char **out, size_t *out_len)
{
	unsigned char hdr[16];
	uint64_t off, data, len;
	size_t got;
	int error;
	if (!elf_addr(e, ptr, (uint64_t)(2 * ptr_size), &off))
		return corrupt(s, "the string header address 0x%llx is outside the file's segments",
			       (unsigned long long)ptr);
	if ((error = src_read(s, hdr, (size_t)(2 * ptr_size), off, &got)) < 0)
		return error;
	if (got < (size_t)(2 * ptr_size))
		return corrupt(s, "a string header at offset %llu is truncated", (unsigned long long)off);
	data = get_uint(hdr, (size_t)ptr_size, big);
	len = get_uint(hdr + ptr_size, (size_t)ptr_size, big);
	if (len > BM_GOBUILDINFO_MAX_STRING)
		return corrupt(s, "a string length of %llu bytes (header at offset %llu) is over the bound",
			       (unsigned long long)len, (unsigned long long)off);
	if (!elf_addr(e, data, len, &off))
		return corrupt(s, "a string of %llu bytes at address 0x%llx is outside the file's segments",
			       (unsigned long long)len, (unsigned long long)data);
	*out_len = (size_t)len;
	return read_string(s, off, (size_t)len, out);
}

/* ---- modinfo text ---- */

static int xdigit(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static int put_utf8(bm_buf *b, uint32_t r)
{
	char u[4];
	if (r < 0x80) {
		u[0] = (char)r;
		return bm_buf_put(b, u, 1);
	}
	if (r < 0x800) {
		u[0] = (char)(0xc0 | (r >> 6));
		u[1] = (char)(0x80 | (r & 0x3f));
		return bm_buf_put(b, u, 2);
	}
	if (r < 0x10000) {
		u[0] = (char)(0xe0 | (r >> 12));
		u[1] = (char)(0x80 | ((r >> 6) & 0x3f));
		u[2] = (char)(0x80 | (r & 0x3f));
		return bm_buf_put(b, u, 3);
	}
	u[0] = (char)(0xf0 | (r >> 18));
	u[1] = (char)(0x80 | ((r >> 12) & 0x3f));
	u[2] = (char)(0x80 | ((r >> 6) & 0x3f));
	u[3] = (char)(0x80 | (r & 0x3f));
	return bm_buf_put(b, u, 4);
}

/* Length of the Go quoted string (strconv.QuotedPrefix) at the start of [s, s+n); 0 when
 * there is none. */
static size_t quoted_prefix(const char *s, size_t n)
{
	size_t i;
	if (n < 2)
		return 0;
	if (s[0] == '`') {
		const char *close = memchr(s + 1, '`', n - 1);
		return close ? (size_t)(close - s) + 1 : 0;
	}
	if (s[0] != '"')
		return 0;
	for (i = 1; i < n; i++) {
		if (s[i] == '\n')
			return 0;
		if (s[i] == '\\') {
			i++;
			continue;
		}
		if (s[i] == '"')
			return i + 1;
	}
	return 0;
}

/* strconv.Unquote of exactly [s, s+n): 0 and the text in *out, or -1. */
static int go_unquote(bm_buf *out, const char *s, size_t n)
{
	size_t i;
	if (n < 2 || s[n - 1] != s[0])
		return -1;
	if (s[0] == '`') {
		for (i = 1; i < n - 1; i++) {
			if (s[i] == '`')
				return -1;
			if (s[i] != '\r' && bm_buf_putc(out, s[i]) < 0)
				return -1;
		}
		return bm_buf_put(out, "", 0) < 0 ? -1 : 0;
	}
	if (s[0] != '"')
		return -1;
	for (i = 1; i < n - 1; i++) {
		char c = s[i];
		int err;
		if (c == '"' || c == '\n')
			return -1;
		if (c != '\\') {
			err = bm_buf_putc(out, c);
		} else {
			uint32_t r = 0;
			int k, digitsn;
			if (++i >= n - 1)
				return -1;
			switch (s[i]) {
			case 'a': err = bm_buf_putc(out, '\a'); break;
			case 'b': err = bm_buf_putc(out, '\b'); break;
			case 'f': err = bm_buf_putc(out, '\f'); break;
			case 'n': err = bm_buf_putc(out, '\n'); break;
			case 'r': err = bm_buf_putc(out, '\r'); break;
			case 't': err = bm_buf_putc(out, '\t'); break;
			case 'v': err = bm_buf_putc(out, '\v'); break;
			case '\\': err = bm_buf_putc(out, '\\'); break;
			case '"': err = bm_buf_putc(out, '"'); break;
			case 'x': case 'u': case 'U':
				digitsn = s[i] == 'x' ? 2 : s[i] == 'u' ? 4 : 8;
				if (n - 1 - (i + 1) < (size_t)digitsn)
					return -1;
				for (k = 0; k < digitsn; k++) {
					int d = xdigit(s[i + 1 + (size_t)k]);
					if (d < 0)
						return -1;
					r = r << 4 | (uint32_t)d;
				}
				if (s[i] == 'x') {
					err = bm_buf_putc(out, (char)r);
				} else {
					if (r > 0x10ffff || (r >= 0xd800 && r < 0xe000))
						return -1;
					err = put_utf8(out, r);
				}
				i += (size_t)digitsn;
				break;
			case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
				if (n - 1 - i < 3)
					return -1;
				for (k = 0; k < 3; k++) {
					char d = s[i + (size_t)k];
					if (d < '0' || d > '7')
						return -1;
					r = r << 3 | (uint32_t)(d - '0');
				}
				if (r > 255)
					return -1;
				err = bm_buf_putc(out, (char)r);
				i += 2;
				break;
			default:
				return -1;
			}
		}
		if (err < 0)
			return -1;
	}
	return bm_buf_put(out, "", 0) < 0 ? -1 : 0;
}

static int needs_quote(const char *s, int is_key)
{
	if (is_key && (!*s || strchr(s, '=')))
		return 1;
	return strpbrk(s, " \t\r\n\"`") != NULL;
}

/* strconv.Quote: printable ASCII and valid UTF-8 as is (every non-ASCII rune is taken as
 * printable), the usual escapes, \xHH for other bytes. */
static int go_quote(bm_buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int error = bm_buf_putc(out, '"');
	while (*p && !error) {
		unsigned char c = *p;
		size_t n = 0;
		if (c >= 0x80) {
			if ((c & 0xe0) == 0xc0 && c >= 0xc2) n = 2;
			else if ((c & 0xf0) == 0xe0) n = 3;
			else if ((c & 0xf8) == 0xf0 && c <= 0xf4) n = 4;
			if (n) {
				size_t k;
				for (k = 1; k < n; k++)
					if ((p[k] & 0xc0) != 0x80)
						n = 0;
			}
			if (n == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)))
				n = 0;
			if (n == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
				n = 0;
			if (n) {
				error = bm_buf_put(out, p, n);
				p += n;
				continue;
			}
			error = bm_buf_printf(out, "\\x%02x", c);
		} else if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			error = bm_buf_put(out, e, 2);
		} else if (c >= 0x20 && c < 0x7f) {
			error = bm_buf_putc(out, (char)c);
		} else {
			const char *e = c == '\a' ? "\\a" : c == '\b' ? "\\b" : c == '\f' ? "\\f" : c == '\n' ? "\\n" :
					c == '\r' ? "\\r" : c == '\t' ? "\\t" : c == '\v' ? "\\v" : NULL;
			error = e ? bm_buf_puts(out, e) : bm_buf_printf(out, "\\x%02x", c);
		}
		p++;
	}
	return error ? error : bm_buf_putc(out, '"');
}

static void module_dispose(bm_gomodule *m)
{
	if (!m)
		return;
	free(m->path);
	free(m->version);
	free(m->sum);
	if (m->replace) {
		module_dispose(m->replace);
		free(m->replace);
	}
}

struct mi_parser {
	bm_gobuildinfo *bi;
	size_t dep_alloc, set_alloc;
	unsigned int lineno;
};

static int mi_error(struct mi_parser *mp, const char *what)
{
	return bm_error_set(BM_ECORRUPT, "Go build info: modinfo line %u: %s", mp->lineno, what);
}

/* Split [s, s+n) on tabs into up to `max` fields; returns the field count (max + 1 when
 * there are more). */
static size_t split_tabs(const char *s, size_t n, const char **f, size_t *fl, size_t max)
{
	size_t count = 0;
	const char *end = s + n;
	for (;;) {
		const char *tab = memchr(s, '\t', (size_t)(end - s));
		const char *fe = tab ? tab : end;
		if (count == max)
			return max + 1;
		f[count] = s;
		fl[count] = (size_t)(fe - s);
		count++;
		if (!tab)
			return count;
		s = tab + 1;
	}
}

static int set_module(struct mi_parser *mp, bm_gomodule *m, const char *s, size_t n, int replacement)
{
	const char *f[3];
	size_t fl[3], count = split_tabs(s, n, f, fl, 3);
	if (replacement ? count != 3 : (count != 2 && count != 3))
		return mi_error(mp, replacement ? "expected 3 tab-separated columns for a replacement"
						: "expected 2 or 3 tab-separated columns");
	if (!(m->path = strndup(f[0], fl[0])) || !(m->version = strndup(f[1], fl[1])) ||
	    !(m->sum = strndup(count == 3 ? f[2] : "", count == 3 ? fl[2] : 0)))
		return bm_error_set(BM_ENOMEM, "out of memory");
	return 0;
}

static int add_setting(struct mi_parser *mp, const char *kv, size_t n)
{
	bm_gobuildinfo *bi = mp->bi;
	bm_buf key = BM_BUF_INIT, value = BM_BUF_INIT;
	const char *raw_value;
	size_t raw_len;
	int error = 0;

	if (n == 0) {
		error = mi_error(mp, "build line missing '='");
		goto done;
	}
	if (kv[0] == '=') {
		error = mi_error(mp, "build line with missing key");
		goto done;
	}
	if (kv[0] == '"' || kv[0] == '`') {
		size_t q = quoted_prefix(kv, n);
		if (!q || go_unquote(&key, kv, q) < 0) {
			error = mi_error(mp, "invalid quoted key in build line");
			goto done;
		}
		if (q == n || kv[q] != '=') {
			error = mi_error(mp, "build line missing '=' after quoted key");
			goto done;
		}
		raw_value = kv + q + 1;
		raw_len = n - q - 1;
	} else {
		const char *eq = memchr(kv, '=', n);
		if (!eq) {
			error = mi_error(mp, "build line missing '=' after key");
			goto done;
		}
		if ((error = bm_buf_put(&key, kv, (size_t)(eq - kv))) < 0)
			goto done;
		if (memchr(key.ptr, '\0', key.size) || needs_quote(key.ptr, 1)) {
			error = mi_error(mp, "a build key with a space, tab, quote or '=' must be quoted");
			goto done;
		}
		raw_value = eq + 1;
		raw_len = n - (size_t)(eq - kv) - 1;
	}
	if (raw_len && (raw_value[0] == '"' || raw_value[0] == '`')) {
		if (go_unquote(&value, raw_value, raw_len) < 0) {
			error = mi_error(mp, "invalid quoted value in build line");
			goto done;
		}
	} else {
		if ((error = bm_buf_put(&value, raw_value, raw_len)) < 0)
			goto done;
		if (needs_quote(value.ptr, 0)) {
			error = mi_error(mp, "a build value with a space, tab or quote must be quoted");
			goto done;
		}
	}
	if (bi->setting_count == mp->set_alloc) {
		size_t na = mp->set_alloc ? mp->set_alloc * 2 : 16;
		bm_gobuild_setting *p = realloc(bi->settings, na * sizeof(*p));
		if (!p) {
			error = bm_error_set(BM_ENOMEM, "out of memory");
			goto done;
		}
		bi->settings = p;
		mp->set_alloc = na;
	}
	bi->settings[bi->setting_count].key = bm_buf_detach(&key);
	bi->settings[bi->setting_count].value = bm_buf_detach(&value);
	bi->setting_count++;
	if (!bi->settings[bi->setting_count - 1].key || !bi->settings[bi->setting_count - 1].value)
		error = bm_error_set(BM_ENOMEM, "out of memory");
done:
	bm_buf_dispose(&key);
	bm_buf_dispose(&value);
	return error;
}

#define HAS_PREFIX(s, n, lit) ((n) >= sizeof(lit) - 1 && memcmp((s), (lit), sizeof(lit) - 1) == 0)

/* The reverse of runtime/debug.BuildInfo.String(): lines `go`, `path`, `mod`, `dep`, `=>`
 * (replaces the module on the line before), `build key=value`. Unknown lines are skipped,
 * as Go does, and so is a last line without its newline. */
static int parse_modinfo(bm_gobuildinfo *bi, const char *text, size_t len)
{
	struct mi_parser mp = { bi, 0, 0, 1 };
	const char *p = text, *end = text + len;
	bm_gomodule *last = NULL;
	int error;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n;
		if (!nl)
			break;
		n = (size_t)(nl - p);
		if (memchr(p, '\0', n))
			return mi_error(&mp, "a NUL byte");
		if (HAS_PREFIX(p, n, "go\t")) {
			free(bi->go_version);
			if (!(bi->go_version = strndup(p + 3, n - 3)))
				return bm_error_set(BM_ENOMEM, "out of memory");
		} else if (HAS_PREFIX(p, n, "path\t")) {
			free(bi->path);
			if (!(bi->path = strndup(p + 5, n - 5)))
				return bm_error_set(BM_ENOMEM, "out of memory");
		} else if (HAS_PREFIX(p, n, "mod\t")) {
			module_dispose(&bi->main);  /* Go keeps the last one */
			memset(&bi->main, 0, sizeof(bi->main));
			last = &bi->main;
			if ((error = set_module(&mp, last, p + 4, n - 4, 0)) < 0)
				return error;
		} else if (HAS_PREFIX(p, n, "dep\t")) {
			if (bi->dep_count == mp.dep_alloc) {
				size_t na = mp.dep_alloc ? mp.dep_alloc * 2 : 32;
				bm_gomodule *d = realloc(bi->deps, na * sizeof(*d));
				if (!d)
					return bm_error_set(BM_ENOMEM, "out of memory");
				bi->deps = d;
				mp.dep_alloc = na;
			}
			last = &bi->deps[bi->dep_count++];
			memset(last, 0, sizeof(*last));
			if ((error = set_module(&mp, last, p + 4, n - 4, 0)) < 0)
				return error;
		} else if (HAS_PREFIX(p, n, "=>\t")) {
			if (!last)
				return mi_error(&mp, "replacement with no module on the line before");
			if (!(last->replace = calloc(1, sizeof(*last->replace))))
				return bm_error_set(BM_ENOMEM, "out of memory");
			if ((error = set_module(&mp, last->replace, p + 3, n - 3, 1)) < 0)
				return error;
			last = NULL;
		} else if (HAS_PREFIX(p, n, "build\t")) {
			if ((error = add_setting(&mp, p + 6, n - 6)) < 0)
				return error;
		}
		mp.lineno++;
		p = nl + 1;
	}
	return 0;
}

static int fill_empty(bm_gobuildinfo *bi)
{
	if ((!bi->path && !(bi->path = strdup(""))) || (!bi->go_version && !(bi->go_version = strdup(""))) ||
	    (!bi->main.path && !(bi->main.path = strdup(""))) ||
	    (!bi->main.version && !(bi->main.version = strdup(""))) ||
	    (!bi->main.sum && !(bi->main.sum = strdup(""))))
		return bm_error_set(BM_ENOMEM, "out of memory");
	return 0;
}

int bm_gobuildinfo_parse_modinfo(bm_gobuildinfo **out, const char *text, size_t len)
{
	bm_gobuildinfo *bi;
	int error;
	*out = NULL;
	if (len > BM_GOBUILDINFO_MAX_STRING)
		return bm_error_set(BM_ETOOBIG, "Go modinfo is %zu bytes, over the bound of %u",
				    len, BM_GOBUILDINFO_MAX_STRING);
	if (!(bi = calloc(1, sizeof(*bi))))
		return bm_error_set(BM_ENOMEM, "out of memory");
	if ((error = parse_modinfo(bi, text, len)) < 0 || (error = fill_empty(bi)) < 0) {
		bm_gobuildinfo_free(bi);
		return error;
	}
	*out = bi;
	return 0;
}

/* ---- the whole thing ---- */

static int read_buildinfo(bm_gobuildinfo **out, struct src *s)
{
	struct elf e;
	bm_gobuildinfo *bi = NULL;
	unsigned char h[GO_HEADER_SIZE];
	char *version = NULL, *mod = NULL;
	size_t got, version_len = 0, mod_len = 0;
	uint64_t at = 0;
	int is_elf = 0, error;

	*out = NULL;
	memset(&e, 0, sizeof(e));
	if ((error = find_header(s, &e, &is_elf, &at)) < 0)
		goto done;
	if ((error = src_read(s, h, sizeof(h), at, &got)) < 0)
		goto done;
	if (got < sizeof(h)) {
		error = corrupt(s, "the header at offset %llu is truncated (%llu of 32 bytes)",
				(unsigned long long)at, (unsigned long long)got);
		goto done;
	}
	if (!(bi = calloc(1, sizeof(*bi)))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	bi->offset = at;
	bi->ptr_size = h[14];
	bi->inline_strings = (h[15] & 2) != 0;
	if (bi->inline_strings) {
		uint64_t off = at + GO_HEADER_SIZE;
		bi->big_endian = (h[15] & 1) != 0;
		if ((error = read_inline_string(s, &off, &version, &version_len)) < 0 ||
		    (error = read_inline_string(s, &off, &mod, &mod_len)) < 0)
			goto done;
	} else {
		uint64_t vptr, mptr;
		bi->big_endian = h[15] != 0;
		if (bi->ptr_size != 4 && bi->ptr_size != 8) {
			error = corrupt(s, "the header at offset %llu gives pointer size %llu; expected 4 or 8",
					(unsigned long long)at, (unsigned long long)bi->ptr_size);
			goto done;
		}
		if (!is_elf) {
			error = bm_error_set(BM_EUNSUPPORTED, "%s: Go build info in the pre-1.18 pointer format "
					     "can only be read from ELF files", s->name);
			goto done;
		}
		vptr = get_uint(h + 16, (size_t)bi->ptr_size, bi->big_endian);
		mptr = get_uint(h + 16 + bi->ptr_size, (size_t)bi->ptr_size, bi->big_endian);
		if ((error = read_pointer_string(s, &e, vptr, bi->ptr_size, bi->big_endian, &version, &version_len)) < 0 ||
		    (error = read_pointer_string(s, &e, mptr, bi->ptr_size, bi->big_endian, &mod, &mod_len)) < 0)
			goto done;
	}
	if (version_len == 0 || memchr(version, '\0', version_len) || memchr(version, '\n', version_len)) {
		error = corrupt(s, "the Go version string at offset %llu is empty or not text",
				(unsigned long long)at);
		goto done;
	}
	/* Sentinels: 16 bytes each side, the text ends with '\n' (as Go checks it). */
	if (mod_len >= 33 && mod[mod_len - 17] == '\n') {
		if ((error = parse_modinfo(bi, mod + 16, mod_len - 32)) < 0)
			goto done;
	}
	free(bi->go_version);
	bi->go_version = version;
	version = NULL;
	if ((error = fill_empty(bi)) < 0)
		goto done;
	*out = bi;
	bi = NULL;
done:
	if (error == BM_ECORRUPT && strncmp(bm_error_last(), "Go build info: modinfo", 22) == 0)
		bm_error_prefix(error, "%s", s->name);
	free(version);
	free(mod);
	free(e.progs);
	bm_gobuildinfo_free(bi);
	return error;
}

int bm_gobuildinfo_parse(bm_gobuildinfo **out, const void *data, size_t len)
{
	struct src s;
	static const unsigned char empty[1];
	memset(&s, 0, sizeof(s));
	s.mem = data ? data : empty;
	s.size = data ? len : 0;
	s.fd = -1;
	s.name = "the data";
	return read_buildinfo(out, &s);
}

int bm_gobuildinfo_read(bm_gobuildinfo **out, const char *path)
{
	struct src s;
	struct stat st;
	int error;
	*out = NULL;
	memset(&s, 0, sizeof(s));
	s.name = path;
	if ((error = bm_file_open_read(&s.fd, path, 0)) < 0)
		return error;
	if (fstat(s.fd, &st) < 0) {
		error = bm_error_set(BM_EIO, "cannot stat %s: %s", path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		error = bm_error_set(BM_EINVALID, "%s is not a regular file", path);
		goto done;
	}
	s.size = (uint64_t)st.st_size;
	error = read_buildinfo(out, &s);
done:
	close(s.fd);
	return error;
}

const char *bm_gobuildinfo_setting(const bm_gobuildinfo *bi, const char *key)
{
	size_t i;
	if (!bi || !key)
		return NULL;
	for (i = 0; i < bi->setting_count; i++)
		if (strcmp(bi->settings[i].key, key) == 0)
			return bi->settings[i].value;
	return NULL;
}

static int format_mod(bm_buf *out, const char *word, const bm_gomodule *m)
{
	int error;
	if ((error = bm_buf_printf(out, "\t%s\t%s\t%s", word, m->path ? m->path : "",
				   m->version ? m->version : "")) < 0)
		return error;
	if (m->replace) {
		if ((error = bm_buf_putc(out, '\n')) < 0)
			return error;
		return format_mod(out, "=>", m->replace);
	}
	return bm_buf_printf(out, "\t%s\n", m->sum ? m->sum : "");
}

int bm_gobuildinfo_format(bm_buf *out, const bm_gobuildinfo *bi)
{
	const bm_gomodule *m = &bi->main;
	size_t i;
	int error;
	if (bi->path && bi->path[0] && (error = bm_buf_printf(out, "\tpath\t%s\n", bi->path)) < 0)
		return error;
	if (((m->path && m->path[0]) || (m->version && m->version[0]) || (m->sum && m->sum[0]) || m->replace) &&
	    (error = format_mod(out, "mod", m)) < 0)
		return error;
	for (i = 0; i < bi->dep_count; i++)
		if ((error = format_mod(out, "dep", &bi->deps[i])) < 0)
			return error;
	for (i = 0; i < bi->setting_count; i++) {
		const bm_gobuild_setting *st = &bi->settings[i];
		if ((error = bm_buf_puts(out, "\tbuild\t")) < 0)
			return error;
		error = needs_quote(st->key, 1) ? go_quote(out, st->key) : bm_buf_puts(out, st->key);
		if (error < 0 || (error = bm_buf_putc(out, '=')) < 0)
			return error;
		error = needs_quote(st->value, 0) ? go_quote(out, st->value) : bm_buf_puts(out, st->value);
		if (error < 0 || (error = bm_buf_putc(out, '\n')) < 0)
			return error;
	}
	return 0;
}

void bm_gobuildinfo_free(bm_gobuildinfo *bi)
{
	size_t i;
	if (!bi)
		return;
	free(bi->go_version);
	free(bi->path);
	module_dispose(&bi->main);
	for (i = 0; i < bi->dep_count; i++)
		module_dispose(&bi->deps[i]);
	free(bi->deps);
	for (i = 0; i < bi->setting_count; i++) {
		free(bi->settings[i].key);
		free(bi->settings[i].value);
	}
	free(bi->settings);
	free(bi);
}
