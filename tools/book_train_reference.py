"""The book's chapter-5 training loop (train_model_simple) in PyTorch on the CPU, for checking that
`myllm train --preset book-*` draws weights, dropout masks and batch orders as the book does.

usage: python3 tools/book_train_reference.py TRAIN_IDS VAL_IDS N_LAYER EMB HEADS EPOCHS [CONTEXT [MAX_STEPS]] > reference.json
TRAIN_IDS/VAL_IDS: whitespace-separated token ids (`myllm tokenize`) of the book's 90/10 character split.
Prints the loss of every training batch and the (train, val) losses at each evaluation.
"""
import json, sys
import torch
import torch.nn as nn


class MultiHeadAttention(nn.Module):
    def __init__(self, d_in, d_out, context_length, dropout, num_heads, qkv_bias=False):
        super().__init__()
        self.d_out, self.num_heads, self.head_dim = d_out, num_heads, d_out // num_heads
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.out_proj = nn.Linear(d_out, d_out)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("mask", torch.triu(torch.ones(context_length, context_length), diagonal=1))

    def forward(self, x):
        b, t, _ = x.shape
        k = self.W_key(x).view(b, t, self.num_heads, self.head_dim).transpose(1, 2)
        q = self.W_query(x).view(b, t, self.num_heads, self.head_dim).transpose(1, 2)
        v = self.W_value(x).view(b, t, self.num_heads, self.head_dim).transpose(1, 2)
        s = q @ k.transpose(2, 3)
        s.masked_fill_(self.mask.bool()[:t, :t], -torch.inf)
        w = self.dropout(torch.softmax(s / k.shape[-1] ** 0.5, dim=-1))
        return self.out_proj((w @ v).transpose(1, 2).contiguous().view(b, t, self.d_out))


class LayerNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.eps, self.scale, self.shift = 1e-5, nn.Parameter(torch.ones(d)), nn.Parameter(torch.zeros(d))

    def forward(self, x):
        m = x.mean(dim=-1, keepdim=True)
        v = x.var(dim=-1, keepdim=True, unbiased=False)
        return self.scale * (x - m) / torch.sqrt(v + self.eps) + self.shift


class GELU(nn.Module):
    def forward(self, x):
        return 0.5 * x * (1 + torch.tanh(torch.sqrt(torch.tensor(2.0 / torch.pi)) * (x + 0.044715 * torch.pow(x, 3))))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.att = MultiHeadAttention(c["emb_dim"], c["emb_dim"], c["context_length"], c["drop_rate"], c["n_heads"], c["qkv_bias"])
        self.ff = nn.Sequential(nn.Linear(c["emb_dim"], 4 * c["emb_dim"]), GELU(), nn.Linear(4 * c["emb_dim"], c["emb_dim"]))
        self.norm1, self.norm2 = LayerNorm(c["emb_dim"]), LayerNorm(c["emb_dim"])
        self.drop_shortcut = nn.Dropout(c["drop_rate"])

    def forward(self, x):
        x = x + self.drop_shortcut(self.att(self.norm1(x)))
        return x + self.drop_shortcut(self.ff(self.norm2(x)))


class GPTModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.tok_emb = nn.Embedding(c["vocab_size"], c["emb_dim"])
        self.pos_emb = nn.Embedding(c["context_length"], c["emb_dim"])
        self.drop_emb = nn.Dropout(c["drop_rate"])
        self.trf_blocks = nn.Sequential(*[Block(c) for _ in range(c["n_layers"])])
        self.final_norm = LayerNorm(c["emb_dim"])
        self.out_head = nn.Linear(c["emb_dim"], c["vocab_size"], bias=False)

    def forward(self, idx):
        t = idx.shape[1]
        x = self.drop_emb(self.tok_emb(idx) + self.pos_emb(torch.arange(t)))
        return self.out_head(self.final_norm(self.trf_blocks(x)))


class Windows(torch.utils.data.Dataset):
    def __init__(self, ids, L, stride):
        self.x = [torch.tensor(ids[i:i + L]) for i in range(0, len(ids) - L, stride)]
        self.y = [torch.tensor(ids[i + 1:i + L + 1]) for i in range(0, len(ids) - L, stride)]

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


def loss_batch(x, y, model):
    return torch.nn.functional.cross_entropy(model(x).flatten(0, 1), y.flatten())


def loss_loader(loader, model, n):
    if len(loader) == 0:
        return float("nan")
    n = min(n, len(loader))
    total = 0.0
    for i, (x, y) in enumerate(loader):
        if i >= n:
            break
        total += loss_batch(x, y, model).item()
    return total / n


def main():
    train_ids = [int(t) for t in open(sys.argv[1]).read().split()]
    val_ids = [int(t) for t in open(sys.argv[2]).read().split()]
    layers, emb, heads, epochs = (int(a) for a in sys.argv[3:7])
    ctx = int(sys.argv[7]) if len(sys.argv) > 7 else 256
    max_steps = int(sys.argv[8]) if len(sys.argv) > 8 else 10 ** 9
    cfg = dict(vocab_size=50257, context_length=ctx, emb_dim=emb, n_heads=heads, n_layers=layers, drop_rate=0.1, qkv_bias=False)
    torch.manual_seed(123)
    model = GPTModel(cfg)
    train_loader = torch.utils.data.DataLoader(Windows(train_ids, ctx, ctx), batch_size=2, shuffle=True, drop_last=True, num_workers=0)
    val_loader = torch.utils.data.DataLoader(Windows(val_ids, ctx, ctx), batch_size=2, shuffle=False, drop_last=False, num_workers=0)
    opt = torch.optim.AdamW(model.parameters(), lr=0.0004, weight_decay=0.1)
    steps, evals, step = [], [], -1
    for _ in range(epochs):
        model.train()
        for x, y in train_loader:
            if step + 1 >= max_steps:
                break
            opt.zero_grad()
            loss = loss_batch(x, y, model)
            loss.backward()
            opt.step()
            step += 1
            steps.append(loss.item())
            if step % 5 == 0:
                model.eval()
                with torch.no_grad():
                    tr, va = loss_loader(train_loader, model, 5), loss_loader(val_loader, model, 5)
                model.train()
                evals.append([step, tr, va])
    json.dump({"step_losses": steps, "evals": evals, "rand_after": torch.rand(2).tolist()}, sys.stdout)


if __name__ == "__main__":
    main()
