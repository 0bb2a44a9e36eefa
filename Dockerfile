# kicd on Debian 12: build with the project's own scripts, run as a
# non-root user. Migrates, then starts (see docker-compose.yml).
FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN ./scripts/bootstrap \
 && cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DKIC_TESTS=OFF -DCMAKE_INSTALL_PREFIX=/opt/kicd \
 && cmake --build /build -j"$(nproc)" && cmake --install /build

FROM debian:12
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends libevent-2.1-7 libevent-core-2.1-7 \
      libevent-extra-2.1-7 libevent-openssl-2.1-7 libpq5 libjansson4 libinih1 libssl3 tzdata \
 && rm -rf /var/lib/apt/lists/* && useradd --system --home /var/lib/kicd kicd \
 && mkdir -p /var/lib/kicd && chown kicd /var/lib/kicd
COPY --from=build /opt/kicd /opt/kicd
COPY docker/kicd.ini /etc/kicd/kicd.ini
USER kicd
WORKDIR /var/lib/kicd
EXPOSE 7411 7480
CMD ["sh", "-c", "/opt/kicd/bin/kicctl migrate --dir /opt/kicd/share/kicd/migrations && exec /opt/kicd/bin/kicd --config /etc/kicd/kicd.ini"]
