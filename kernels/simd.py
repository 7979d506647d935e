"""Two register-blocked SIMD micro-kernels, written in LLVM IR through numba.

Why IR: numba passes arrays without ``noalias``, so LLVM must assume that an
accumulator row may alias the weights.  It then keeps no accumulator in a
register across the input loop, and does not turn named scalar accumulators
into vectors either (the assembly showed scalar ``vfmadd231sd`` only).  Here
the accumulators are explicit 256-bit vectors (4 float64 or 8 float32 lanes)
that live in registers for a whole loop, and every weight vector is loaded once
and used for several samples.

``forward_block{1,4}`` — z_s[0:c] += Σ_i a_si w_i[0:c] for 1 or 4 samples s and
c ≤ 2 vectors of outputs, over the inputs i listed in ``idx`` (those where some
sample is nonzero), in that order.

``row_update{1,2}`` — for 1 or 2 weight rows r and c ≤ 4 vectors of columns,
w_r ← decay · w_r, then w_r −= (scale · a_sr) δ_s for the samples s the caller
lists (those whose a_sr are not all 0), in mini-batch order (BP4 and the SGD
step fused: each row is read and written once per mini-batch).

Every lane does exactly the scalar code's operations in the scalar code's order
(one fused multiply-add per product, as ``contract`` lets LLVM do anyway), so
results do not depend on how rows and samples are grouped into blocks, nor on
the number of threads.  Columns past ``c`` are masked, never read or written.
"""
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

VECTOR_BITS = 256
I64 = ir.IntType(64)
I32 = ir.IntType(32)


def lanes(dtype):
    """How many numbers of ``dtype`` one vector holds (4 float64, 8 float32)."""
    return VECTOR_BITS // dtype.bitwidth


class _Emitter:
    """LLVM IR helpers shared by the kernels: offsets, masks, loads, stores, splats."""

    def __init__(self, context, builder, dtype):
        self.builder = builder
        self.fty = context.get_value_type(dtype)
        self.n = lanes(dtype)
        self.vty = ir.VectorType(self.fty, self.n)
        self.align = dtype.bitwidth // 8
        self.mty = ir.VectorType(ir.IntType(1), self.n)
        module = builder.module
        ptr = self.vty.as_pointer()
        vname = f"v{self.n}{'f64' if dtype.bitwidth == 64 else 'f32'}"
        suffix = f"{vname}.p0"
        self.mload = cgutils.get_or_insert_function(
            module, ir.FunctionType(self.vty, [ptr, I32, self.mty, self.vty]),
            f"llvm.masked.load.{suffix}")
        self.mstore = cgutils.get_or_insert_function(
            module, ir.FunctionType(ir.VoidType(), [self.vty, ptr, I32, self.mty]),
            f"llvm.masked.store.{suffix}")
        self._fma = cgutils.get_or_insert_function(
            module, ir.FunctionType(self.vty, [self.vty] * 3), f"llvm.fma.{vname}")

    def fma(self, x, y, z):
        """x·y + z rounded once, lane by lane."""
        return self.builder.call(self._fma, [x, y, z])

    def at(self, base, offset):
        """Pointer to a vector starting at element base[offset]."""
        return self.builder.bitcast(self.builder.gep(base, [offset]), self.vty.as_pointer())

    def mask(self, n_cols, v):
        """Lanes j of vector v with v·lanes + j < n_cols."""
        b = self.builder
        left = b.sub(n_cols, ir.Constant(I64, v * self.n))
        lane = ir.Constant(ir.VectorType(I64, self.n), [ir.Constant(I64, j) for j in range(self.n)])
        return b.icmp_signed("<", lane, self.splat(left, ir.VectorType(I64, self.n)))

    def splat(self, x, vty=None):
        vty = vty or self.vty
        b = self.builder
        one = b.insert_element(ir.Constant(vty, ir.Undefined), x, ir.Constant(I32, 0))
        return b.shuffle_vector(one, ir.Constant(vty, ir.Undefined),
                                ir.Constant(ir.VectorType(I32, vty.count), [0] * vty.count))

    def load(self, ptr, mask=None):
        if mask is None:
            return self.builder.load(ptr, align=self.align)
        return self.builder.call(self.mload, [ptr, ir.Constant(I32, self.align), mask,
                                              ir.Constant(self.vty, None)])

    def store(self, value, ptr, mask=None):
        if mask is None:
            self.builder.store(value, ptr, align=self.align)
        else:
            self.builder.call(self.mstore, [value, ptr, ir.Constant(I32, self.align), mask])

    def full_or_masked(self, n_cols, n_vec, emit):
        """emit(masks) once per count of vectors that n_cols ≤ n_vec·lanes needs.

        ``masks`` has one entry per vector holding some column: None (plain
        loads and stores) for all but a partial last one, which gets its mask.
        Masked stores are slow (microcoded on AMD), so only that one is masked,
        and vectors past n_cols are not touched at all.
        """
        b = self.builder
        nv = b.sdiv(b.add(n_cols, ir.Constant(I64, self.n - 1)), ir.Constant(I64, self.n))
        full = b.icmp_signed(">=", n_cols, ir.Constant(I64, n_vec * self.n))
        nv = b.select(full, ir.Constant(I64, n_vec + 1), nv)
        done = b.append_basic_block("cols.done")
        switch = b.switch(nv, done)
        for count in range(1, n_vec + 2):
            block = b.append_basic_block(f"cols.{count}")
            switch.add_case(ir.Constant(I64, count), block)
            b.position_at_end(block)
            if count > n_vec:
                emit([None] * n_vec)
            else:
                emit([None] * (count - 1) + [self.mask(n_cols, count - 1)])
            b.branch(done)
        b.position_at_end(done)


def _unpack(context, builder, sig, args, arrays, types_=None):
    """Data pointers of the array arguments, every other argument as an int64."""
    out = []
    for k, (ty, val) in enumerate(zip(types_ or sig.args, args)):
        if k in arrays:
            out.append(context.make_array(ty)(context, builder, val).data)
        else:
            out.append(context.cast(builder, val, ty, types.int64))
    return out


def _forward_block(n_samples, n_vec):
    def codegen(context, builder, sig, args):
        e = _Emitter(context, builder, sig.args[6].dtype)
        zp, z0, ldz, ap, a0, lda, wp, w0, ldw, ip, k, n_cols = _unpack(
            context, builder, sig, args, (0, 3, 6, 9))
        ity = context.get_value_type(sig.args[9].dtype)
        b = builder
        acc = [[cgutils.alloca_once(b, e.vty) for _ in range(n_vec)] for _ in range(n_samples)]
        zrow = [b.add(z0, b.mul(ldz, ir.Constant(I64, s))) for s in range(n_samples)]
        arow = [b.add(a0, b.mul(lda, ir.Constant(I64, s))) for s in range(n_samples)]

        def emit(masks):
            for s in range(n_samples):
                for v in range(len(masks)):
                    z = e.at(zp, b.add(zrow[s], ir.Constant(I64, v * e.n)))
                    b.store(e.load(z, masks[v]), acc[s][v])
            with cgutils.for_range(b, k) as loop:
                i = b.load(b.gep(ip, [loop.index]))
                if ity.width < 64:
                    i = b.sext(i, I64)
                x = [b.load(b.gep(ap, [b.add(arow[s], i)])) for s in range(n_samples)]
                row = b.add(w0, b.mul(i, ldw))
                w = [e.load(e.at(wp, b.add(row, ir.Constant(I64, v * e.n))), masks[v])
                     for v in range(len(masks))]
                for s in range(n_samples):
                    xs = e.splat(x[s])
                    for v in range(len(masks)):
                        b.store(e.fma(xs, w[v], b.load(acc[s][v])), acc[s][v])
            for s in range(n_samples):
                for v in range(len(masks)):
                    z = e.at(zp, b.add(zrow[s], ir.Constant(I64, v * e.n)))
                    e.store(b.load(acc[s][v]), z, masks[v])

        e.full_or_masked(n_cols, n_vec, emit)
        return context.get_dummy_value()
    return codegen


def _make_forward_block(n_samples, n_vec=2):
    @intrinsic
    def forward_block(typingctx, Z, z0, ldz, A, a0, lda, W, w0, ldw, idx, k, n_cols):
        if not (isinstance(W, types.Array) and Z.dtype == A.dtype == W.dtype
                and isinstance(W.dtype, types.Float) and isinstance(idx.dtype, types.Integer)):
            return None
        sig = types.void(Z, z0, ldz, A, a0, lda, W, w0, ldw, idx, k, n_cols)
        return sig, _forward_block(n_samples, n_vec)
    return forward_block


forward_block4 = _make_forward_block(4)
forward_block4.__doc__ = """Z[z0 + s·ldz + j] += Σ_i A[a0 + s·lda + i] · W[w0 + i·ldw + j]
for the 4 samples s < 4 and the columns j < n_cols ≤ 2·lanes, i < n_in in order.
Flat offsets into C-contiguous arrays of one float dtype."""
forward_block1 = _make_forward_block(1)
forward_block1.__doc__ = "``forward_block4`` for one sample."

ROW_VECTORS = 4


def _row_update(n_rows):
    def codegen(context, builder, sig, args):
        e = _Emitter(context, builder, sig.args[0].dtype)
        wp, w0, ldw, n_cols, dp, d0, ldd, ap, a0, lda, sp, k = _unpack(
            context, builder, sig, args[:3] + args[4:11] + args[12:], (0, 4, 7, 10),
            types_=sig.args[:3] + sig.args[4:11] + sig.args[12:])
        dtype = sig.args[0].dtype
        sty = context.get_value_type(sig.args[12].dtype)
        decay = context.cast(builder, args[3], sig.args[3], dtype)
        scale = context.cast(builder, args[11], sig.args[11], dtype)
        b = builder
        rows = [b.add(w0, b.mul(ldw, ir.Constant(I64, r))) for r in range(n_rows)]
        acc = [[cgutils.alloca_once(b, e.vty) for _ in range(ROW_VECTORS)] for _ in rows]

        def col(base, v):
            return e.at(wp, b.add(base, ir.Constant(I64, v * e.n)))

        def emit(masks):
            d_splat = e.splat(decay)
            for r in range(n_rows):
                for v in range(len(masks)):
                    w = b.fmul(e.load(col(rows[r], v), masks[v]), d_splat)
                    b.store(w, acc[r][v])
            # Only the listed samples: the others' inputs are 0 for these rows
            # and would add 0·δ.  No test in the loop, hence no mispredicted branch.
            with cgutils.for_range(b, k) as loop:
                s = b.load(b.gep(sp, [loop.index]))
                if sty.width < 64:
                    s = b.sext(s, I64)
                drow = b.add(d0, b.mul(s, ldd))
                arow = b.add(a0, b.mul(s, lda))
                a = [b.load(b.gep(ap, [b.add(arow, ir.Constant(I64, r))])) for r in range(n_rows)]
                d = [e.load(e.at(dp, b.add(drow, ir.Constant(I64, v * e.n))), masks[v])
                     for v in range(len(masks))]
                for r in range(n_rows):
                    c = b.fneg(e.splat(b.fmul(scale, a[r])))
                    for v in range(len(masks)):
                        b.store(e.fma(c, d[v], b.load(acc[r][v])), acc[r][v])
            for r in range(n_rows):
                for v in range(len(masks)):
                    e.store(b.load(acc[r][v]), col(rows[r], v), masks[v])

        e.full_or_masked(n_cols, ROW_VECTORS, emit)
        return context.get_dummy_value()
    return codegen


def _make_row_update(n_rows):
    @intrinsic
    def row_update(typingctx, W, w0, ldw, decay, n_cols, D, d0, ldd, A, a0, lda, scale,
                   samples, k):
        if not (isinstance(W, types.Array) and W.dtype == D.dtype == A.dtype
                and isinstance(W.dtype, types.Float) and isinstance(samples.dtype, types.Integer)):
            return None
        return (types.void(W, w0, ldw, decay, n_cols, D, d0, ldd, A, a0, lda, scale, samples, k),
                _row_update(n_rows))
    return row_update


row_update2 = _make_row_update(2)
row_update2.__doc__ = """Rows r = 0, 1 of W at w0 + r·ldw, columns j < n_cols ≤ 4·lanes:

    w_rj ← decay · w_rj,  then for s = samples[0], …, samples[k − 1] in order
    w_rj −= (scale · a_sr) · δ_sj

with a_sr = A[a0 + s·lda + r] and δ_sj = D[d0 + s·ldd + j]; each δ vector is
loaded once for both rows, and the two rows' chains of FMAs overlap.  The
caller lists the samples (in mini-batch order) with some a_sr ≠ 0."""
row_update1 = _make_row_update(1)
row_update1.__doc__ = "``row_update2`` for row 0 only."
