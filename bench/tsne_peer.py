"""Peer and scorer of bench/tsne.sh. `fit X.npy OUT.npy` runs scikit-learn's Barnes-Hut TSNE
(perplexity 30, 1000 iterations, PCA init, learning rate auto) and prints its KL; `score MAP.npy
LABELS.tsv` prints the 10-NN accuracy of a map and its trustworthiness on a sample."""
import sys, time, json
import numpy as np

if sys.argv[1] == "fit":
    from sklearn.manifold import TSNE
    x = np.load(sys.argv[2]).reshape(-1, 50).astype(np.float32)
    t = TSNE(n_components=2, perplexity=30, n_iter=1000, init="pca", learning_rate="auto",
             method="barnes_hut", random_state=0, n_jobs=int(sys.argv[4]))
    y = t.fit_transform(x)
    np.save(sys.argv[3], y.astype(np.float32))
    print(json.dumps({"kl": float(t.kl_divergence_)}))
else:
    from sklearn.neighbors import NearestNeighbors
    from sklearn.manifold import trustworthiness
    y = np.load(sys.argv[2]).reshape(-1, 2)
    labels = np.array([line.split("\t")[1] for line in open(sys.argv[3]).read().splitlines()[1:]])
    nn = NearestNeighbors(n_neighbors=11).fit(y)
    idx = nn.kneighbors(y, return_distance=False)[:, 1:]
    votes = (labels[idx] == labels[:, None]).sum(1)
    knn = float(((labels[idx] == labels[:, None]).mean(1)).mean())
    x = np.load(sys.argv[4]).reshape(len(y), -1)
    rng = np.random.default_rng(0)
    sample = rng.choice(len(y), size=min(2000, len(y)), replace=False)
    tw = trustworthiness(x[sample], y[sample], n_neighbors=10)
    print(json.dumps({"knn": knn, "trust": float(tw)}))
