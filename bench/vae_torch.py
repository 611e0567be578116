"""PyTorch peer of bench/vae.sh: the classic VAE example (784-400-20, ReLU, sigmoid, BCE + KL,
Adam 1e-3, batch 128) on Fashion-MNIST read from Debian's IDX files. Prints one JSON line:
seconds per epoch, the test loss (nats per image) after the epochs, encode images/s."""
import gzip, json, os, sys, time
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

threads, epochs, data = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
torch.set_num_threads(threads)
torch.manual_seed(0)

def idx(name):
    with gzip.open(os.path.join(data, name)) as f:
        raw = f.read()
    return torch.from_numpy(np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255)

train, test = idx('train-images-idx3-ubyte.gz'), idx('t10k-images-idx3-ubyte.gz')

class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
        self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)
    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc21(h), self.fc22(h)
    def forward(self, x):
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z)))), mu, logvar

def loss_fn(recon, x, mu, logvar):
    bce = F.binary_cross_entropy(recon, x, reduction='sum')
    return bce - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())

model = VAE()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
seconds = []
for epoch in range(epochs):
    t0 = time.perf_counter()
    model.train()
    for batch in torch.randperm(len(train)).split(128):
        x = train[batch]
        opt.zero_grad()
        recon, mu, logvar = model(x)
        loss = loss_fn(recon, x, mu, logvar)
        loss.backward()
        opt.step()
    seconds.append(time.perf_counter() - t0)
model.eval()
with torch.no_grad():
    total = 0.0
    for x in test.split(128):
        recon, mu, logvar = model(x)
        total += loss_fn(recon, x, mu, logvar).item()
    both = torch.cat([train, test])
    t0 = time.perf_counter()
    for x in both.split(256):
        model.encode(x)
    encode_s = time.perf_counter() - t0
print(json.dumps({"threads": threads, "epoch_s": seconds, "test_loss": total / len(test),
                  "encode_images_s": len(both) / encode_s}))
